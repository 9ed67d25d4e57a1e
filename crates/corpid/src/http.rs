//! The CorpID APIs. The operator's, under `/api/v1/admin/corpid` (the administrator token):
//! register a business with its first administrator (named by HKID), show one, suspend,
//! reactivate, dissolve. A business administrator's, under `/api/v1/corpid` (the resident's
//! signed-in session): the caller's businesses, a business's details, representatives,
//! delegations, licences and signing policy. Representatives read; only administrators change
//! (`corpid.not_administrator`, checked in the change's own transaction); a business the
//! caller does not represent now is a 404, never a 403. Handlers are thin: extract, call
//! [`CorpIdService`], shape.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::Json;
use bauhinia_core::admin::{Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{Hkid, Problem, ProblemDocument};
use bauhinia_identity::passkeys::http::ResidentSession;
use bauhinia_identity::{IdentityService, SessionService};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{Brn, StatusChange};
use crate::error::CorpIdError;
use crate::service::CorpIdService;
use crate::store::Caller;
use crate::wire::{
    self, BusinessDoc, BusinessView, Created, DelegationDoc, DelegationRequest, GrantRequest,
    LicenceDoc, LicenceRequest, RegisterBusinessRequest, RepresentationDoc, RepresentativeDoc,
    RoleRequest, SigningPolicy, StatusRequest,
};

pub const TAG: &str = "corpid";
pub const ADMIN_TAG: &str = "corpid-admin";
/// The audit actor of the operator's API.
const OPERATOR: &str = "admin";

#[derive(Debug, Clone)]
pub struct CorpIdState {
    pub corpid: Arc<CorpIdService>,
    pub identity: Arc<IdentityService>,
    pub sessions: SessionService,
    pub admin: Arc<AdminToken>,
}

impl FromRef<CorpIdState> for Arc<AdminToken> {
    fn from_ref(state: &CorpIdState) -> Arc<AdminToken> {
        Arc::clone(&state.admin)
    }
}

impl FromRef<CorpIdState> for SessionService {
    fn from_ref(state: &CorpIdState) -> SessionService {
        state.sessions.clone()
    }
}

pub fn router(state: CorpIdState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(register_business))
        .routes(routes!(show_business))
        .routes(routes!(suspend_business))
        .routes(routes!(reactivate_business))
        .routes(routes!(dissolve_business))
        .routes(routes!(my_businesses))
        .routes(routes!(business_details))
        .routes(routes!(list_representatives, grant_role))
        .routes(routes!(change_role, revoke_role))
        .routes(routes!(list_delegations, create_delegation))
        .routes(routes!(revoke_delegation))
        .routes(routes!(list_licences, add_licence))
        .routes(routes!(update_licence, remove_licence))
        .routes(routes!(signing_policy, set_signing_policy))
        .with_state(state)
}

type Answer<T> = Result<T, Problem>;

fn now() -> i64 {
    bauhinia_core::background::now_ms() / 1_000
}

fn path_brn(text: &str) -> Result<Brn, CorpIdError> {
    wire::brn(text, "/brn")
}

fn hkid(text: &str, field: &str) -> Result<Hkid, CorpIdError> {
    Hkid::parse(text).map_err(|e| CorpIdError::field(field, e.to_string()))
}

/// Both values, or every field fault of either (other errors as they come).
fn both<A, B>(a: Result<A, CorpIdError>, b: Result<B, CorpIdError>) -> Result<(A, B), CorpIdError> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(CorpIdError::Invalid(mut faults)), Err(CorpIdError::Invalid(more))) => {
            faults.extend(more);
            Err(CorpIdError::Invalid(faults))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The resident with this HKID, or `corpid.resident_not_found`.
async fn resident_by_hkid(state: &CorpIdState, hkid: &Hkid) -> Result<String, Problem> {
    match state.identity.find_by_hkid(hkid).await? {
        Some(resident) => Ok(resident.id),
        None => Err(CorpIdError::ResidentNotFound.into()),
    }
}

// ---- The operator ----

/// Registers a business with its first administrator. Operator only; audited.
#[utoipa::path(post, path = "/api/v1/admin/corpid/businesses", tag = ADMIN_TAG,
    request_body = RegisterBusinessRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = BusinessDoc),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No resident has the administrator's HKID", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn register_business(
    State(state): State<CorpIdState>,
    _admin: Admin,
    ApiJson(request): ApiJson<RegisterBusinessRequest>,
) -> Answer<(StatusCode, Json<BusinessDoc>)> {
    let draft = request.draft();
    let today = time::OffsetDateTime::now_utc().date();
    let (_, administrator) = both(
        draft.validate(today).map_err(CorpIdError::Invalid),
        hkid(&request.administrator_hkid, "/administrator_hkid"),
    )?;
    let resident = resident_by_hkid(&state, &administrator).await?;
    let business = state
        .corpid
        .register(&draft, &resident, &Caller::Operator(OPERATOR.into()), now())
        .await?;
    Ok((StatusCode::CREATED, Json(BusinessDoc::from(&business))))
}

/// A business by BRN, whatever its status. Operator only.
#[utoipa::path(get, path = "/api/v1/admin/corpid/businesses/{brn}", tag = ADMIN_TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("admin_token" = [])),
    responses((status = 200, body = BusinessDoc),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn show_business(
    State(state): State<CorpIdState>,
    _admin: Admin,
    Path(brn): Path<String>,
) -> Answer<Json<BusinessDoc>> {
    let business = state.corpid.business(&path_brn(&brn)?).await?;
    Ok(Json(BusinessDoc::from(&business)))
}

async fn move_status(
    state: &CorpIdState,
    brn: &str,
    change: StatusChange,
    request: &StatusRequest,
) -> Answer<Json<BusinessDoc>> {
    let brn = path_brn(brn)?;
    let reason = request.reason()?;
    let business = state
        .corpid
        .change_status(
            &brn,
            change,
            reason,
            &Caller::Operator(OPERATOR.into()),
            now(),
        )
        .await?;
    Ok(Json(BusinessDoc::from(&business)))
}

/// Suspends an active business: it yields no representations (nobody logs in for it) until
/// reactivated. Operator only; audited with the reason.
#[utoipa::path(post, path = "/api/v1/admin/corpid/businesses/{brn}/suspend", tag = ADMIN_TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = StatusRequest, security(("admin_token" = [])),
    responses((status = 200, body = BusinessDoc),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn suspend_business(
    State(state): State<CorpIdState>,
    _admin: Admin,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Answer<Json<BusinessDoc>> {
    move_status(&state, &brn, StatusChange::Suspend, &request).await
}

/// Reactivates a suspended business. Operator only; audited.
#[utoipa::path(post, path = "/api/v1/admin/corpid/businesses/{brn}/reactivate", tag = ADMIN_TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = StatusRequest, security(("admin_token" = [])),
    responses((status = 200, body = BusinessDoc),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn reactivate_business(
    State(state): State<CorpIdState>,
    _admin: Admin,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Answer<Json<BusinessDoc>> {
    move_status(&state, &brn, StatusChange::Reactivate, &request).await
}

/// Dissolves a business (final). Operator only; audited.
#[utoipa::path(post, path = "/api/v1/admin/corpid/businesses/{brn}/dissolve", tag = ADMIN_TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = StatusRequest, security(("admin_token" = [])),
    responses((status = 200, body = BusinessDoc),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn dissolve_business(
    State(state): State<CorpIdState>,
    _admin: Admin,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<StatusRequest>,
) -> Answer<Json<BusinessDoc>> {
    move_status(&state, &brn, StatusChange::Dissolve, &request).await
}

// ---- A business's representatives ----

/// The businesses the signed-in resident may act for now, by BRN (what corporate login offers).
#[utoipa::path(get, path = "/api/v1/corpid/me/businesses", tag = TAG,
    security(("session" = [])),
    responses((status = 200, body = Vec<RepresentationDoc>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json")))]
async fn my_businesses(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
) -> Answer<Json<Vec<RepresentationDoc>>> {
    let list = state
        .corpid
        .representations_at(&session.resident_id, now())
        .await?;
    Ok(Json(list.iter().map(RepresentationDoc::from).collect()))
}

/// The business (checked visible to the caller now) and how the caller acts for it.
async fn visible(
    state: &CorpIdState,
    session: &bauhinia_identity::Session,
    brn: &str,
) -> Result<
    (
        crate::Business,
        bauhinia_identity::corporate::Representation,
    ),
    Problem,
> {
    Ok(state
        .corpid
        .visible(&session.resident_id, &path_brn(brn)?, now())
        .await?)
}

fn resident(session: &bauhinia_identity::Session) -> Caller {
    Caller::Resident(session.resident_id.clone())
}

/// A business the caller represents: its record and the caller's role.
#[utoipa::path(get, path = "/api/v1/corpid/businesses/{brn}", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("session" = [])),
    responses((status = 200, body = BusinessView),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn business_details(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
) -> Answer<Json<BusinessView>> {
    let (business, me) = visible(&state, &session, &brn).await?;
    Ok(Json(BusinessView {
        business: BusinessDoc::from(&business),
        me: RepresentationDoc::from(&me),
    }))
}

/// The business's own representatives (not agents acting through a delegation).
#[utoipa::path(get, path = "/api/v1/corpid/businesses/{brn}/representatives", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("session" = [])),
    responses((status = 200, body = Vec<RepresentativeDoc>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn list_representatives(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
) -> Answer<Json<Vec<RepresentativeDoc>>> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let mut out = Vec::new();
    for row in state.corpid.representatives(&business.id).await? {
        let person = state.identity.resident(&row.resident_id).await?;
        out.push(RepresentativeDoc {
            resident_id: row.resident_id,
            english_name: person.english_name,
            chinese_name: person.chinese_name,
            hkid_masked: person.hkid_masked,
            role: row.role,
            granted_at: wire::rfc3339(row.granted_at_s),
        });
    }
    Ok(Json(out))
}

/// Grants a role to a resident named by HKID. Administrators only; one role per resident.
#[utoipa::path(post, path = "/api/v1/corpid/businesses/{brn}/representatives", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = GrantRequest, security(("session" = [])),
    responses((status = 204, description = "Granted"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn grant_role(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let (who, role) = both(
        hkid(&request.hkid, "/hkid"),
        wire::role(&request.role, "/role"),
    )?;
    let target = resident_by_hkid(&state, &who).await?;
    state
        .corpid
        .grant(&business.brn, &target, role, &resident(&session), now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a representative's role. Administrators only; the last administrator keeps theirs.
#[utoipa::path(put, path = "/api/v1/corpid/businesses/{brn}/representatives/{resident_id}", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits"),
        ("resident_id" = String, Path, description = "The representative's resident id")),
    request_body = RoleRequest, security(("session" = [])),
    responses((status = 204, description = "Changed"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn change_role(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path((brn, resident_id)): Path<(String, String)>,
    ApiJson(request): ApiJson<RoleRequest>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let role = wire::role(&request.role, "/role")?;
    state
        .corpid
        .change_role(
            &business.brn,
            &resident_id,
            role,
            &resident(&session),
            now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes a representative's role. Administrators only; never the last administrator.
#[utoipa::path(delete, path = "/api/v1/corpid/businesses/{brn}/representatives/{resident_id}", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits"),
        ("resident_id" = String, Path, description = "The representative's resident id")),
    security(("session" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn revoke_role(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path((brn, resident_id)): Path<(String, String)>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    state
        .corpid
        .revoke(&business.brn, &resident_id, &resident(&session), now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Delegations ----

/// Delegations the business granted (as client) and holds (as agent), newest first.
#[utoipa::path(get, path = "/api/v1/corpid/businesses/{brn}/delegations", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("session" = [])),
    responses((status = 200, body = Vec<DelegationDoc>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn list_delegations(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
) -> Answer<Json<Vec<DelegationDoc>>> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let now = now();
    let rows = state.corpid.delegations(&business.id).await?;
    Ok(Json(
        rows.iter()
            .map(|r| DelegationDoc::new(r, &business.id, now))
            .collect(),
    ))
}

/// Delegates a role (authorised signatory or user) to an agent business for at most three
/// years. The client's administrators only.
#[utoipa::path(post, path = "/api/v1/corpid/businesses/{brn}/delegations", tag = TAG,
    params(("brn" = String, Path, description = "The client business's BRN")),
    request_body = DelegationRequest, security(("session" = [])),
    responses((status = 201, body = Created),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn create_delegation(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<DelegationRequest>,
) -> Answer<(StatusCode, Json<Created>)> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let now = now();
    let (agent, terms) = request.terms(now)?;
    let id = state
        .corpid
        .create_delegation(&business.brn, &agent, &terms, &resident(&session), now)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Revokes a delegation the business granted. The client's administrators only.
#[utoipa::path(delete, path = "/api/v1/corpid/businesses/{brn}/delegations/{delegation_id}", tag = TAG,
    params(("brn" = String, Path, description = "The client business's BRN"),
        ("delegation_id" = String, Path, description = "The delegation's id")),
    security(("session" = [])),
    responses((status = 204, description = "Revoked"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn revoke_delegation(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path((brn, delegation_id)): Path<(String, String)>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    state
        .corpid
        .revoke_delegation(&business.brn, &delegation_id, &resident(&session), now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Licences ----

/// The licences and permits the business keeps.
#[utoipa::path(get, path = "/api/v1/corpid/businesses/{brn}/licences", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("session" = [])),
    responses((status = 200, body = Vec<LicenceDoc>),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn list_licences(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
) -> Answer<Json<Vec<LicenceDoc>>> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let rows = state.corpid.licences(&business.id).await?;
    Ok(Json(rows.iter().map(LicenceDoc::from).collect()))
}

/// Adds a licence. Administrators only.
#[utoipa::path(post, path = "/api/v1/corpid/businesses/{brn}/licences", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = LicenceRequest, security(("session" = [])),
    responses((status = 201, body = Created),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn add_licence(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<LicenceRequest>,
) -> Answer<(StatusCode, Json<Created>)> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let id = state
        .corpid
        .add_licence(&business.brn, &request.draft(), &resident(&session), now())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Replaces a licence's record. Administrators only.
#[utoipa::path(put, path = "/api/v1/corpid/businesses/{brn}/licences/{licence_id}", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits"),
        ("licence_id" = String, Path, description = "The licence's id")),
    request_body = LicenceRequest, security(("session" = [])),
    responses((status = 204, description = "Updated"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn update_licence(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path((brn, licence_id)): Path<(String, String)>,
    ApiJson(request): ApiJson<LicenceRequest>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    state
        .corpid
        .update_licence(
            &business.brn,
            &licence_id,
            &request.draft(),
            &resident(&session),
            now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a licence. Administrators only.
#[utoipa::path(delete, path = "/api/v1/corpid/businesses/{brn}/licences/{licence_id}", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits"),
        ("licence_id" = String, Path, description = "The licence's id")),
    security(("session" = [])),
    responses((status = 204, description = "Removed"),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn remove_licence(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path((brn, licence_id)): Path<(String, String)>,
) -> Answer<StatusCode> {
    let (business, _) = visible(&state, &session, &brn).await?;
    state
        .corpid
        .remove_licence(&business.brn, &licence_id, &resident(&session))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Signing policy ----

/// How many authorised signatories must approve a corporate signature.
#[utoipa::path(get, path = "/api/v1/corpid/businesses/{brn}/signing-policy", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    security(("session" = [])),
    responses((status = 200, body = SigningPolicy),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn signing_policy(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
) -> Answer<Json<SigningPolicy>> {
    let (business, _) = visible(&state, &session, &brn).await?;
    Ok(Json(SigningPolicy {
        signatories_required: i64::from(business.signatories_required),
    }))
}

/// Sets the signing policy (1 or 2 signatories). Administrators only.
#[utoipa::path(put, path = "/api/v1/corpid/businesses/{brn}/signing-policy", tag = TAG,
    params(("brn" = String, Path, description = "Business Registration number, 8 digits")),
    request_body = SigningPolicy, security(("session" = [])),
    responses((status = 200, body = SigningPolicy),
        (status = 401, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = ProblemDocument, content_type = "application/problem+json")))]
async fn set_signing_policy(
    State(state): State<CorpIdState>,
    ResidentSession(session): ResidentSession,
    Path(brn): Path<String>,
    ApiJson(request): ApiJson<SigningPolicy>,
) -> Answer<Json<SigningPolicy>> {
    let (business, _) = visible(&state, &session, &brn).await?;
    let required = request.required()?;
    state
        .corpid
        .set_signing_policy(&business.brn, required, &resident(&session), now())
        .await?;
    Ok(Json(SigningPolicy {
        signatories_required: i64::from(required.get()),
    }))
}
