//! The administrator's API for services (relying parties) and signing keys, under
//! `/api/identity/v1/admin`. Every call needs the administrator token; every change is audited.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::admin::{Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem, ProblemDocument};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::jose::Alg;
use crate::oidc::clients::{Client, Registration};
use crate::oidc::Provider;

pub const TAG: &str = "identity-admin";
const ACTOR: &str = "admin";

#[derive(Debug, Clone)]
pub struct AdminState {
    pub provider: Arc<Provider>,
    pub token: Arc<AdminToken>,
    pub identity: Arc<crate::IdentityService>,
    pub passkeys: Arc<crate::PasskeyService>,
}

impl FromRef<AdminState> for Arc<AdminToken> {
    fn from_ref(state: &AdminState) -> Self {
        state.token.clone()
    }
}

pub fn router(state: AdminState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(register_service, list_services))
        .routes(routes!(get_service, update_service, disable_service))
        .routes(routes!(rotate_secret))
        .routes(routes!(rotate_key))
        .routes(routes!(register_resident))
        .routes(routes!(enrolment_code))
        .with_state(state)
}

/// A registered service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub client_id: String,
    pub active: bool,
    pub created_at: i64,
    pub registration: Registration,
    /// Only in the answer to a registration or a secret rotation: store it now, for it is kept
    /// only as a keyed hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ServiceView {
    fn of(client: Client, client_secret: Option<String>) -> ServiceView {
        ServiceView {
            client_id: client.client_id,
            active: client.active,
            created_at: client.created_at,
            registration: client.registration,
            client_secret,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceView>,
}

/// Registers a service (relying party).
#[utoipa::path(post, path = "/api/identity/v1/admin/services", tag = TAG,
    request_body = Registration,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered; a basic service's secret is shown once", body = ServiceView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid registration", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn register_service(
    _: Admin,
    State(state): State<AdminState>,
    ApiJson(registration): ApiJson<Registration>,
) -> Result<Response, Problem> {
    let (client, secret) = state.provider.clients.register(registration, ACTOR).await?;
    Ok((StatusCode::CREATED, Json(ServiceView::of(client, secret))).into_response())
}

/// Every registered service.
#[utoipa::path(get, path = "/api/identity/v1/admin/services", tag = TAG,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The services", body = ServiceList),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_services(
    _: Admin,
    State(state): State<AdminState>,
) -> Result<Json<ServiceList>, Problem> {
    let services = state.provider.clients.list().await?;
    Ok(Json(ServiceList {
        services: services
            .into_iter()
            .map(|c| ServiceView::of(c, None))
            .collect(),
    }))
}

/// One service.
#[utoipa::path(get, path = "/api/identity/v1/admin/services/{client_id}", tag = TAG,
    params(("client_id" = String, Path, description = "The service's client id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The service", body = ServiceView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn get_service(
    _: Admin,
    State(state): State<AdminState>,
    Path(client_id): Path<String>,
) -> Result<Json<ServiceView>, Problem> {
    let client = state
        .provider
        .clients
        .get(&client_id)
        .await?
        .ok_or_else(|| crate::oidc::clients::ClientError::NotFound(client_id))?;
    Ok(Json(ServiceView::of(client, None)))
}

/// Replaces a service's registration (its profile cannot change).
#[utoipa::path(put, path = "/api/identity/v1/admin/services/{client_id}", tag = TAG,
    params(("client_id" = String, Path, description = "The service's client id")),
    request_body = Registration,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "Updated", body = ServiceView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid registration", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn update_service(
    _: Admin,
    State(state): State<AdminState>,
    Path(client_id): Path<String>,
    ApiJson(registration): ApiJson<Registration>,
) -> Result<Json<ServiceView>, Problem> {
    let client = state
        .provider
        .clients
        .update(&client_id, registration, ACTOR)
        .await?;
    Ok(Json(ServiceView::of(client, None)))
}

/// Disables a service: it can no longer authenticate, and its users are no longer sent to it.
#[utoipa::path(delete, path = "/api/identity/v1/admin/services/{client_id}", tag = TAG,
    params(("client_id" = String, Path, description = "The service's client id")),
    security(("admin_token" = [])),
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such active service", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn disable_service(
    _: Admin,
    State(state): State<AdminState>,
    Path(client_id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.provider.clients.disable(&client_id, ACTOR).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new client secret for a basic service; the old one stops working at once.
#[utoipa::path(post, path = "/api/identity/v1/admin/services/{client_id}/secret", tag = TAG,
    params(("client_id" = String, Path, description = "The service's client id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The new secret, shown once", body = ServiceView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Not a basic service", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn rotate_secret(
    _: Admin,
    State(state): State<AdminState>,
    Path(client_id): Path<String>,
) -> Result<Json<ServiceView>, Problem> {
    let secret = state
        .provider
        .clients
        .rotate_secret(&client_id, ACTOR)
        .await?;
    let client = state
        .provider
        .clients
        .get(&client_id)
        .await?
        .ok_or_else(|| crate::oidc::clients::ClientError::NotFound(client_id))?;
    Ok(Json(ServiceView::of(client, Some(secret))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKey {
    /// `ES256` or `RS256`.
    pub alg: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedKey {
    pub kid: String,
}

/// Rotates the ID-token signing key of one algorithm. The old key stays in the JWKS, and keeps
/// verifying, until the tokens it signed have expired.
#[utoipa::path(post, path = "/api/identity/v1/admin/keys/rotate", tag = TAG,
    request_body = RotateKey,
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The new key id", body = RotatedKey),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Unknown algorithm", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn rotate_key(
    _: Admin,
    State(state): State<AdminState>,
    ApiJson(body): ApiJson<RotateKey>,
) -> Result<Json<RotatedKey>, Problem> {
    let alg = Alg::parse(&body.alg)
        .filter(|a| crate::keys::SIGNING_ALGS.contains(a))
        .ok_or_else(|| {
            Problem::new(ErrorCode::InvalidField)
                .errors(vec![FieldError::new("/alg", "ES256 or RS256")])
        })?;
    let kid = state
        .provider
        .keys
        .rotate(alg, ACTOR)
        .await
        .map_err(|e| Problem::internal(&e))?;
    Ok(Json(RotatedKey { kid }))
}

/// A resident's registration, as an administrator (a registration counter) sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentRegistration {
    #[schema(example = "CHAN, Tai Man")]
    pub english_name: String,
    #[serde(default)]
    #[schema(example = "陳大文")]
    pub chinese_name: Option<String>,
    /// With its check character, e.g. `A123456(3)`.
    #[schema(example = "A123456(3)")]
    pub hkid: String,
    #[schema(example = "1980-02-29")]
    pub date_of_birth: String,
    /// `F` or `M`.
    #[schema(example = "M")]
    pub gender: String,
    #[serde(default)]
    #[schema(example = "+852 9123 4567")]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Address lines.
    pub residential_address: Vec<String>,
    #[serde(default)]
    pub postal_address: Option<Vec<String>>,
}

/// A registered resident: the HKID only masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentView {
    pub id: String,
    pub english_name: String,
    pub chinese_name: Option<String>,
    pub hkid_masked: String,
}

/// Registers a resident (the HKID is checked, stored only hashed and sealed, and audited).
#[utoipa::path(post, path = "/api/identity/v1/admin/residents", tag = TAG,
    request_body = ResidentRegistration,
    security(("admin_token" = [])),
    responses(
        (status = 201, description = "Registered", body = ResidentView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "This HKID is already registered", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Invalid registration", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn register_resident(
    _: Admin,
    State(state): State<AdminState>,
    ApiJson(body): ApiJson<ResidentRegistration>,
) -> Result<Response, Problem> {
    let draft = crate::domain::ResidentDraft {
        english_name: body.english_name,
        chinese_name: body.chinese_name,
        hkid: body.hkid,
        date_of_birth: body.date_of_birth,
        gender: body.gender,
        mobile: body.mobile,
        email: body.email,
        residential_address: body.residential_address,
        postal_address: body.postal_address,
    };
    let today = time::OffsetDateTime::now_utc().date();
    let resident = state.identity.register(&draft, ACTOR, today).await?;
    let view = ResidentView {
        id: resident.id,
        english_name: resident.english_name,
        chinese_name: resident.chinese_name,
        hkid_masked: resident.hkid_masked,
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// A one-time enrolment code.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentCodeView {
    /// Eight digits, for the resident to enter with their HKID in the app.
    pub code: String,
    pub expires_at: String,
}

/// Issues a one-time enrolment code for a resident (replacing any earlier one), to hand over at
/// a counter or send to the registered mobile.
#[utoipa::path(post, path = "/api/identity/v1/admin/residents/{id}/enrolment-code", tag = TAG,
    params(("id" = String, Path, description = "The resident's id")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The code", body = EnrolmentCodeView),
        (status = 401, description = "No or wrong administrator token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such resident", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn enrolment_code(
    _: Admin,
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let issued = state.passkeys.issue_enrolment_code(&id, ACTOR).await?;
    let mut response = Json(EnrolmentCodeView {
        code: issued.code.expose().to_owned(),
        expires_at: crate::clock::to_text(issued.expires_at),
    })
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
