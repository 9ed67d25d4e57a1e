//! The passkey API under `/api/identity/v1`: enrolment, sign-in, and a signed-in resident's
//! passkeys. Handlers extract, call [`PasskeyService`], and map the result; who may call what is
//! in the signature ([`ResidentSession`] for everything under `/me`). Every route is declared
//! through `utoipa-axum`, so it is in the OpenAPI document.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem, ProblemDocument};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::{EnrolmentCode, Hkid, PasskeyName};
use crate::passkeys::wire::{
    CeremonyResponse, EnrolmentStartRequest, LoginFinishRequest, MeResponse, PasskeyList,
    PasskeyView, RegistrationFinishRequest, SignedInResponse,
};
use crate::passkeys::{PasskeyService, SignedIn};
use crate::session::{token_from_headers, Session, SessionService, SESSION_COOKIE};
use crate::IdentityError;

pub type PasskeyState = Arc<PasskeyService>;

pub const TAG: &str = "identity";
/// The OpenAPI security scheme of the session cookie.
pub const SESSION_SCHEME: &str = "session";
/// The name a passkey gets when its holder gives none.
pub const DEFAULT_PASSKEY_NAME: &str = "Passkey";

impl FromRef<PasskeyState> for SessionService {
    fn from_ref(state: &PasskeyState) -> SessionService {
        state.sessions().clone()
    }
}

#[derive(OpenApi)]
#[openapi(modifiers(&SessionCookie))]
struct PasskeyApi;

struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by enrolment or sign-in (HttpOnly).",
            ))),
        );
    }
}

/// The routes of the passkey API, with their OpenAPI paths.
pub fn router(service: PasskeyState) -> OpenApiRouter {
    OpenApiRouter::with_openapi(PasskeyApi::openapi())
        .routes(routes!(enrolment_start))
        .routes(routes!(enrolment_finish))
        .routes(routes!(login_start))
        .routes(routes!(login_finish))
        .routes(routes!(me))
        .routes(routes!(list_passkeys))
        .routes(routes!(register_start))
        .routes(routes!(register_finish))
        .routes(routes!(remove_passkey))
        .routes(routes!(logout))
        .with_state(service)
}

/// The signed-in resident's session: the extractor of every route that needs one. A request
/// without a live session is refused with `identity.unauthenticated`. A state-changing request
/// whose `Origin` is another site's is refused too (the session cookie is SameSite=Lax already;
/// this also covers other origins of the same site).
#[derive(Debug, Clone)]
pub struct ResidentSession(pub Session);

impl<S> FromRequestParts<S> for ResidentSession
where
    SessionService: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = SessionService::from_ref(state);
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let origin = parts
                .headers
                .get(header::ORIGIN)
                .and_then(|v| v.to_str().ok());
            if !sessions.accepts_origin(origin) {
                return Err(Problem::new(ErrorCode::IdentityCrossOrigin));
            }
        }
        let token = token_from_headers(&parts.headers).ok_or(IdentityError::Unauthenticated)?;
        match sessions.find(token).await? {
            Some(session) => Ok(ResidentSession(session)),
            None => Err(IdentityError::Unauthenticated.into()),
        }
    }
}

/// An [`IdentityError`] as an HTTP answer: its problem, and for a lockout `Retry-After`.
#[derive(Debug)]
pub struct Refusal(pub IdentityError);

impl From<IdentityError> for Refusal {
    fn from(error: IdentityError) -> Self {
        Refusal(error)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let retry_after = match &self.0 {
            IdentityError::Locked(until) => Some(
                (*until - time::OffsetDateTime::now_utc())
                    .whole_seconds()
                    .max(1),
            ),
            _ => None,
        };
        let mut response = Problem::from(self.0).into_response();
        if let Some(seconds) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

fn field(pointer: &str, error: impl std::fmt::Display) -> IdentityError {
    IdentityError::Field(vec![FieldError::new(pointer, error.to_string())])
}

fn passkey_name(name: Option<&str>) -> Result<PasskeyName, IdentityError> {
    PasskeyName::parse(name.unwrap_or(DEFAULT_PASSKEY_NAME)).map_err(|e| field("/name", e))
}

fn signed_in(service: &PasskeyService, signed_in: &SignedIn) -> Response {
    let body = Json(SignedInResponse::from(signed_in));
    match HeaderValue::from_str(&service.sessions().cookie(&signed_in.token)) {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], body).into_response(),
        Err(e) => Problem::internal(&e).into_response(),
    }
}

/// Enrolment, step one: the HKID and the one-time enrolment code. Answers the options for
/// `navigator.credentials.create`. A wrong code counts towards a lockout of enrolment (five
/// in a row lock it for 15 minutes and void the code); an unknown HKID gets the same answer
/// as a wrong code.
#[utoipa::path(post, path = "/api/identity/v1/enrolment/start", tag = TAG,
    request_body = EnrolmentStartRequest,
    responses(
        (status = 200, description = "Registration options", body = CeremonyResponse),
        (status = 403, description = "HKID and code do not match a live code", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Malformed HKID or code", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Enrolment locked after repeated failures", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn enrolment_start(
    State(service): State<PasskeyState>,
    ApiJson(request): ApiJson<EnrolmentStartRequest>,
) -> Result<Json<CeremonyResponse>, Refusal> {
    let hkid = Hkid::parse(&request.hkid).map_err(|e| field("/hkid", e))?;
    let code = EnrolmentCode::parse(&request.code).map_err(|e| field("/code", e))?;
    let ceremony = service.start_enrolment(&hkid, &code).await?;
    Ok(Json(ceremony.into()))
}

/// Enrolment, step two: the new passkey. Stores it, consumes the enrolment code, and signs
/// the resident in (sets the session cookie).
#[utoipa::path(post, path = "/api/identity/v1/enrolment/finish", tag = TAG,
    request_body = RegistrationFinishRequest,
    responses(
        (status = 200, description = "Enrolled and signed in; `Set-Cookie` carries the session", body = SignedInResponse),
        (status = 403, description = "The passkey did not verify, or the code was used meanwhile", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 410, description = "Unknown, finished or expired ceremony", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Malformed request", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn enrolment_finish(
    State(service): State<PasskeyState>,
    ApiJson(request): ApiJson<RegistrationFinishRequest>,
) -> Result<Response, Refusal> {
    let name = passkey_name(request.name.as_deref())?;
    let done = service
        .finish_enrolment(&request.ceremony_id, &request.credential, &name)
        .await?;
    Ok(signed_in(&service, &done))
}

/// Sign-in, step one: options for `navigator.credentials.get` with no allowed list — the
/// resident's authenticator offers their passkey (discoverable credential).
#[utoipa::path(post, path = "/api/identity/v1/passkeys/login/start", tag = TAG,
    responses(
        (status = 200, description = "Authentication options", body = CeremonyResponse),
        (status = 503, description = "Too many sign-ins in progress", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn login_start(
    State(service): State<PasskeyState>,
) -> Result<Json<CeremonyResponse>, Refusal> {
    Ok(Json(service.start_login().await?.into()))
}

/// Sign-in, step two: the authenticator's answer. On success, sets the session cookie. Answers
/// that do not verify count towards a lockout of the passkey holder's sign-in.
#[utoipa::path(post, path = "/api/identity/v1/passkeys/login/finish", tag = TAG,
    request_body = LoginFinishRequest,
    responses(
        (status = 200, description = "Signed in; `Set-Cookie` carries the session", body = SignedInResponse),
        (status = 403, description = "The answer did not verify", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 410, description = "Unknown, finished or expired ceremony", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Malformed request", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "Sign-in locked after repeated failures", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn login_finish(
    State(service): State<PasskeyState>,
    ApiJson(request): ApiJson<LoginFinishRequest>,
) -> Result<Response, Refusal> {
    let done = service
        .finish_login(&request.ceremony_id, &request.credential)
        .await?;
    Ok(signed_in(&service, &done))
}

/// The signed-in resident (HKID masked) and their session.
#[utoipa::path(get, path = "/api/identity/v1/me", tag = TAG,
    security(("session" = [])),
    responses(
        (status = 200, description = "The resident", body = MeResponse),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn me(
    State(service): State<PasskeyState>,
    ResidentSession(session): ResidentSession,
) -> Result<Json<MeResponse>, Refusal> {
    let resident = service.resident(&session.resident_id).await?;
    Ok(Json(MeResponse {
        resident: (&resident).into(),
        session: (&session).into(),
    }))
}

/// The signed-in resident's passkeys, oldest first.
#[utoipa::path(get, path = "/api/identity/v1/me/passkeys", tag = TAG,
    security(("session" = [])),
    responses(
        (status = 200, description = "The passkeys", body = PasskeyList),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn list_passkeys(
    State(service): State<PasskeyState>,
    ResidentSession(session): ResidentSession,
) -> Result<Json<PasskeyList>, Refusal> {
    let passkeys = service.passkeys(&session.resident_id).await?;
    Ok(Json(PasskeyList {
        passkeys: passkeys.iter().map(PasskeyView::from).collect(),
    }))
}

/// Adding a passkey, step one: options for `navigator.credentials.create`, excluding the
/// resident's existing passkeys.
#[utoipa::path(post, path = "/api/identity/v1/me/passkeys/register/start", tag = TAG,
    security(("session" = [])),
    responses(
        (status = 200, description = "Registration options", body = CeremonyResponse),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "Sent from another site's page", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn register_start(
    State(service): State<PasskeyState>,
    ResidentSession(session): ResidentSession,
) -> Result<Json<CeremonyResponse>, Refusal> {
    Ok(Json(service.start_adding(&session).await?.into()))
}

/// Adding a passkey, step two: the new passkey, from a ceremony started in this session.
#[utoipa::path(post, path = "/api/identity/v1/me/passkeys/register/finish", tag = TAG,
    security(("session" = [])),
    request_body = RegistrationFinishRequest,
    responses(
        (status = 201, description = "Added", body = PasskeyView),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The passkey did not verify", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Already registered, or too many passkeys", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 410, description = "Unknown, finished or expired ceremony", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "Malformed request", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn register_finish(
    State(service): State<PasskeyState>,
    ResidentSession(session): ResidentSession,
    ApiJson(request): ApiJson<RegistrationFinishRequest>,
) -> Result<(StatusCode, Json<PasskeyView>), Refusal> {
    let name = passkey_name(request.name.as_deref())?;
    let added = service
        .finish_adding(&session, &request.ceremony_id, &request.credential, &name)
        .await?;
    Ok((StatusCode::CREATED, Json((&added).into())))
}

/// Removes one of the signed-in resident's passkeys. The last one cannot be removed.
#[utoipa::path(delete, path = "/api/identity/v1/me/passkeys/{id}", tag = TAG,
    security(("session" = [])),
    params(("id" = String, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such passkey of this resident", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "It is the resident's only passkey", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn remove_passkey(
    State(service): State<PasskeyState>,
    ResidentSession(session): ResidentSession,
    Path(id): Path<String>,
) -> Result<StatusCode, Refusal> {
    service.remove(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs out: ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/identity/v1/me/logout", tag = TAG,
    security(("session" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ProblemDocument, content_type = "application/problem+json"),
    ))]
async fn logout(
    State(service): State<PasskeyState>,
    ResidentSession(_): ResidentSession,
    parts: axum::http::HeaderMap,
) -> Result<Response, Refusal> {
    if let Some(token) = token_from_headers(&parts) {
        service.sessions().end(token).await?;
    }
    let clear = HeaderValue::from_str(&service.sessions().clearing_cookie())
        .map_err(|e| IdentityError::Config(e.to_string()))?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}
