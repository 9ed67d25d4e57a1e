//! The owner's side of the consented data exchange (CDEG, CDI, IADS) at `/exchange`: what the
//! exchange is; signing in, with the portal as a relying party of the built-in OpenID
//! Provider (`relying_party`, `sessions`); reviewing a consumer's request — who, what, why,
//! for how long, from whom — and approving or rejecting it, then back to the consumer; the
//! dashboard of every consent with its uses, pause, resume and revoke; the consent receipt as
//! a page and as JSON; the owner's records on the audit chain.
//!
//! Every rule is the exchange's (`bauhinia_exchange::consent`): who may act, which moves the
//! lifecycle allows, what is audited. Handlers prove who is asking with the [`Owner`]
//! extractor (and [`OwnerForm`] for posts: the site's own origin and the session's
//! anti-forgery token), call one service function and render its answer.

pub mod relying_party;
pub mod sessions;
pub mod texts;
pub(crate) mod views;

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{
    FromRequest, FromRequestParts, OriginalUri, Path, Query, RawQuery, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bauhinia_core::crypto::Vault;
use bauhinia_core::{ErrorCode, Problem};
use bauhinia_exchange::consent::domain::{ConsentId, OwnerAction, ResidentId, Status};
use bauhinia_exchange::consent::ConsentError;
use bauhinia_exchange::Exchange;
use bauhinia_identity::oidc::Provider;
use bauhinia_store::Database;
use serde::Deserialize;

use crate::page::{Page, Section};
use crate::prefs::Prefs;
use crate::respond::{no_store, see_other};
use crate::{path_and_query, render};
use relying_party::{Callback, PortalClient, RegistrationError, RelyingParty};
use sessions::{PortalSession, PortalSessions, LOGIN_COOKIE, SESSION_COOKIE};
use texts::ExchangeTexts;
use views::{ConsentView, LogRow, Names, ReceiptView};

/// Where the OpenID Provider sends the browser back (registered as the redirect URI).
pub const CALLBACK_PATH: &str = "/exchange/callback";
const LOGIN_PATH: &str = "/exchange/login";
/// Pairs read from a form body at most when looking for its anti-forgery token (the
/// business pages' longest form has nine).
const FORM_PAIRS_MAX: usize = 16;
/// Records of the owner's usage log shown on the dashboard.
const LOG_ROWS_MAX: i64 = 50;

/// What the owner's pages need.
#[derive(Debug, Clone)]
pub struct ExchangePortalState {
    pub exchange: Arc<Exchange>,
    pub rp: RelyingParty,
    /// For the owner's usage log on the audit chain.
    pub db: Database,
    /// The site's own origin (`https://portal.example.hk`): posts from any other are refused.
    pub origin: String,
}

impl ExchangePortalState {
    /// Registers the portal with the provider on first start (or finds its registration) and
    /// builds the state. `public_url` is the OpenID issuer and the site's origin.
    pub async fn start(
        db: &Database,
        vault: Arc<Vault>,
        provider: Arc<Provider>,
        exchange: Arc<Exchange>,
        public_url: &url::Url,
    ) -> Result<ExchangePortalState, RegistrationError> {
        let client = PortalClient::ensure(db, &vault, &provider, public_url.as_str()).await?;
        let secure = public_url.scheme() == "https";
        Ok(ExchangePortalState {
            exchange,
            rp: RelyingParty {
                client,
                provider,
                sessions: PortalSessions::new(db, vault, secure),
            },
            db: db.clone(),
            origin: public_url.origin().ascii_serialization(),
        })
    }

    fn sessions(&self) -> &PortalSessions {
        &self.rp.sessions
    }
}

pub fn router(state: ExchangePortalState) -> Router {
    Router::new()
        .route("/exchange", get(landing))
        .route(LOGIN_PATH, get(login))
        .route(CALLBACK_PATH, get(callback))
        .route("/exchange/logout", post(logout))
        .route("/exchange/consents", get(dashboard))
        .route("/exchange/consents/{id}", get(review))
        .route("/exchange/consents/{id}/done", get(done))
        .route("/exchange/consents/{id}/receipt", get(receipt_page))
        .route("/exchange/consents/{id}/receipt.json", get(receipt_json))
        .route("/exchange/consents/{id}/{action}", post(act))
        .with_state(state)
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn page(prefs: Prefs, title: &str, uri: &axum::http::Uri) -> Page {
    Page::new(prefs, title, Section::Other, path_and_query(uri))
}

fn internal(cause: impl std::fmt::Display) -> Response {
    Problem::internal(&cause).into_response()
}

pub(crate) fn login_location(next: &str) -> String {
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{LOGIN_PATH}?next={next}")
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Template)]
#[template(path = "exchange_message.html")]
struct MessageTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    title: String,
    body: String,
    code: Option<&'static str>,
    link: Option<(String, String)>,
}

/// A page with one message, the stable error code when it is an error, and a way on.
fn message(
    prefs: Prefs,
    uri: &axum::http::Uri,
    status: StatusCode,
    (title, body): (&str, &str),
    code: Option<ErrorCode>,
    link: Option<(String, String)>,
) -> Response {
    let x = ExchangeTexts::get(prefs.lang);
    no_store(render(
        &MessageTemplate {
            page: page(prefs, title, uri),
            x,
            title: title.to_owned(),
            body: body.to_owned(),
            code: code.map(ErrorCode::code),
            link,
        },
        status,
    ))
}

/// The page for a refusal of the consent engine, with its stable code.
fn consent_error(prefs: Prefs, uri: &axum::http::Uri, error: &ConsentError) -> Response {
    let x = ExchangeTexts::get(prefs.lang);
    let back = Some(("/exchange/consents".to_owned(), x.back.to_owned()));
    let (texts, code) = match error {
        ConsentError::NotOwner => (
            (x.not_owner_title, x.not_owner_body),
            ErrorCode::ExchangeConsentNotOwner,
        ),
        ConsentError::NotFound => (
            (x.not_found_title, x.not_found_body),
            ErrorCode::ExchangeConsentNotFound,
        ),
        ConsentError::Refused(_) => (
            (x.state_title, x.state_body),
            ErrorCode::ExchangeConsentState,
        ),
        other => return internal(other),
    };
    message(prefs, uri, code.status(), texts, Some(code), back)
}

/// An id that cannot be a consent's names none.
fn consent_id(id: &str) -> Result<ConsentId, ConsentError> {
    ConsentId::parse(id).ok_or(ConsentError::NotFound)
}

/// The consent `id` if `owner` may see it (the engine decides, and audits a refusal); else
/// the refusal's page.
async fn owned_consent(
    state: &ExchangePortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    id: &str,
    owner: &Owner,
) -> Result<bauhinia_exchange::consent::Consent, Response> {
    let refused = |e: ConsentError| consent_error(prefs, uri, &e);
    let id = consent_id(id).map_err(refused)?;
    state
        .exchange
        .consents()
        .for_owner(&id, &owner.resident)
        .await
        .map_err(refused)
}

/// A signed-in resident, from the portal session's cookie. Anyone else is sent to sign in
/// and brought back here (a post, to the dashboard).
struct Owner {
    session: PortalSession,
    resident: ResidentId,
    token: String,
}

/// The live portal session the request's cookie opens, with its token; `None` without one.
/// Every portal section that needs a signed-in resident (the exchange, `/business`) asks this.
pub(crate) async fn signed_in(
    sessions: &PortalSessions,
    headers: &HeaderMap,
) -> Result<Option<(PortalSession, String)>, Response> {
    let Some(token) = bauhinia_core::extract::cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(sessions
        .find(token)
        .await
        .map_err(internal)?
        .map(|session| (session, token.to_owned())))
}

/// The body of a post if it is a form of the portal's own pages for `session`: the `Origin`
/// is the site's (when the browser sends one) and the form carries the session's
/// anti-forgery token. `None` when it is not (logged, never with the token).
pub(crate) async fn own_form_body(
    sessions: &PortalSessions,
    session: &PortalSession,
    origin: &str,
    request: Request,
) -> Result<Option<Bytes>, Response> {
    let origin_ok = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|o| o == origin);
    let body = Bytes::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let sent = form_urlencoded::parse(&body)
        .take(FORM_PAIRS_MAX)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if origin_ok && sessions.csrf_matches(session, &sent) {
        Ok(Some(body))
    } else {
        tracing::warn!(session = %session.id, origin_ok, "portal form refused: cross-site or without the session's token");
        Ok(None)
    }
}

/// Where a signed-out browser is sent: a GET comes back to its page after signing in, a post
/// (whose body is lost) to `after_post`.
pub(crate) fn sign_in_first(parts: &Parts, after_post: &str) -> Response {
    if parts.method == Method::GET {
        see_other(&login_location(path_and_query(&parts.uri)))
    } else {
        see_other(&login_location(after_post))
    }
}

impl Owner {
    async fn from_headers(
        state: &ExchangePortalState,
        headers: &HeaderMap,
    ) -> Result<Option<Owner>, Response> {
        let Some((session, token)) = signed_in(state.sessions(), headers).await? else {
            return Ok(None);
        };
        let Some(resident) = ResidentId::parse(&session.resident_id) else {
            return Ok(None);
        };
        Ok(Some(Owner {
            session,
            resident,
            token,
        }))
    }
}

impl FromRequestParts<ExchangePortalState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ExchangePortalState,
    ) -> Result<Self, Self::Rejection> {
        match Owner::from_headers(state, &parts.headers).await? {
            Some(owner) => Ok(owner),
            None => Err(sign_in_first(parts, relying_party::DEFAULT_NEXT)),
        }
    }
}

/// A form posted by a signed-in resident from one of the portal's own pages: the `Origin`
/// is this site's (when the browser sends one) and the form carries the session's
/// anti-forgery token. Anything else is refused with `exchange.portal_csrf`.
struct OwnerForm {
    owner: Owner,
}

impl FromRequest<ExchangePortalState> for OwnerForm {
    type Rejection = Response;

    async fn from_request(
        request: Request,
        state: &ExchangePortalState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let owner = Owner::from_request_parts(&mut parts, state).await?;
        let prefs = Prefs::from_headers(&parts.headers);
        let uri = parts.uri.clone();
        let request = Request::from_parts(parts, body);
        if own_form_body(state.sessions(), &owner.session, &state.origin, request)
            .await?
            .is_none()
        {
            let x = ExchangeTexts::get(prefs.lang);
            return Err(message(
                prefs,
                &uri,
                StatusCode::FORBIDDEN,
                (x.csrf_title, x.csrf_body),
                Some(ErrorCode::ExchangePortalCsrf),
                None,
            ));
        }
        Ok(OwnerForm { owner })
    }
}

#[derive(Template)]
#[template(path = "exchange_home.html")]
struct LandingTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    signed_in: bool,
    csrf: String,
}

/// `GET /exchange`: what CDEG, CDI and IADS are; sign in, or go to the dashboard.
async fn landing(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let owner = match Owner::from_headers(&state, &headers).await {
        Ok(owner) => owner,
        Err(response) => return response,
    };
    let x = ExchangeTexts::get(prefs.lang);
    render(
        &LandingTemplate {
            page: page(prefs, x.title, &uri),
            x,
            signed_in: owner.is_some(),
            csrf: owner.map(|o| o.session.csrf).unwrap_or_default(),
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// `GET /exchange/login?next=…`: a new login (state, nonce, PKCE) and off to the provider.
async fn login(
    State(state): State<ExchangePortalState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    match state.rp.start(query.next.as_deref()).await {
        Ok(start) => with_cookie(
            see_other(&start.location),
            &state.sessions().login_cookie(&start.state),
        ),
        Err(bauhinia_store::StoreError::Conflict(why)) => {
            tracing::warn!("portal login refused: {why}");
            let mut response = Problem::new(ErrorCode::RateLimited).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
        Err(e) => internal(e),
    }
}

/// `GET /exchange/callback`: the provider's answer; a session and back to `next`, or a page
/// saying the login failed (`exchange.portal_login_failed`).
async fn callback(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut received = Callback::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()).take(16) {
        let slot = match key.as_ref() {
            "code" => &mut received.code,
            "state" => &mut received.state,
            "error" => &mut received.error,
            "iss" => &mut received.iss,
            _ => continue,
        };
        if slot.is_some() {
            // A repeated parameter is not an answer the provider gives.
            received.state = None;
            break;
        }
        *slot = Some(value.into_owned());
    }
    let cookie_state = bauhinia_core::extract::cookie(&headers, LOGIN_COOKIE);
    let clear = state.sessions().clearing_login_cookie();
    match state.rp.finish(&received, cookie_state).await {
        Ok(done) => {
            let response = with_cookie(
                see_other(&done.next),
                &state.sessions().session_cookie(&done.token),
            );
            with_cookie(response, &clear)
        }
        Err(relying_party::LoginError::Store(e)) => internal(e),
        Err(error) => {
            let x = ExchangeTexts::get(prefs.lang);
            let body = match error {
                relying_party::LoginError::Provider(_) => x.declined_body,
                _ => x.login_failed_body,
            };
            let response = message(
                prefs,
                &uri,
                StatusCode::BAD_REQUEST,
                (x.login_failed_title, body),
                Some(ErrorCode::ExchangePortalLoginFailed),
                Some(("/exchange".to_owned(), x.try_again.to_owned())),
            );
            with_cookie(response, &clear)
        }
    }
}

/// `POST /exchange/logout`.
async fn logout(State(state): State<ExchangePortalState>, form: OwnerForm) -> Response {
    if let Err(e) = state.sessions().end(&form.owner.token).await {
        return internal(e);
    }
    with_cookie(
        see_other("/exchange"),
        &state.sessions().clearing_session_cookie(),
    )
}

#[derive(Template)]
#[template(path = "exchange_review.html")]
struct ReviewTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    consent: ConsentView,
    csrf: String,
}

/// `GET /exchange/consents/{id}`: the owner reads a request and decides (or, once decided,
/// sees where it stands).
async fn review(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    owner: Owner,
) -> Response {
    let consent = match owned_consent(&state, prefs, &uri, &id, &owner).await {
        Ok(consent) => consent,
        Err(response) => return response,
    };
    let x = ExchangeTexts::get(prefs.lang);
    let mut names = Names::new(&state.exchange, prefs.lang);
    let view = views::consent(&consent, &[], &mut names, prefs.lang).await;
    no_store(render(
        &ReviewTemplate {
            page: page(prefs, x.review_title, &uri),
            x,
            consent: view,
            csrf: owner.session.csrf,
        },
        StatusCode::OK,
    ))
}

/// `POST /exchange/consents/{id}/{approve|reject|pause|resume|revoke}`.
async fn act(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path((id, action)): Path<(String, String)>,
    form: OwnerForm,
) -> Response {
    let id = match consent_id(&id) {
        Ok(id) => id,
        Err(e) => return consent_error(prefs, &uri, &e),
    };
    let action = match action.as_str() {
        "approve" => OwnerAction::Approve,
        "reject" => OwnerAction::Reject,
        "pause" => OwnerAction::Pause,
        "resume" => OwnerAction::Resume,
        "revoke" => OwnerAction::Revoke,
        _ => return crate::not_found_page(prefs, &uri),
    };
    match state
        .exchange
        .consents()
        .act(&id, &form.owner.resident, action, now_s())
        .await
    {
        Ok(_) if matches!(action, OwnerAction::Approve | OwnerAction::Reject) => {
            see_other(&format!("/exchange/consents/{id}/done"))
        }
        Ok(_) => see_other(&format!("/exchange/consents?moved={id}#consent-{id}")),
        Err(e) => consent_error(prefs, &uri, &e),
    }
}

#[derive(Template)]
#[template(path = "exchange_done.html")]
struct DoneTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    approved: bool,
    consent: ConsentView,
    /// The consumer's page, with the consent's id and status added.
    return_to: Option<String>,
}

/// `GET /exchange/consents/{id}/done`: the decision, and the way back to the consumer.
async fn done(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    owner: Owner,
) -> Response {
    let consent = match owned_consent(&state, prefs, &uri, &id, &owner).await {
        Ok(consent) => consent,
        Err(response) => return response,
    };
    let approved = match consent.status {
        Status::Active | Status::Paused => true,
        Status::Rejected => false,
        // Not decided yet, or no longer what was decided: the review page says where it stands.
        Status::Pending | Status::Revoked | Status::Expired => {
            return see_other(&format!("/exchange/consents/{}", consent.id));
        }
    };
    let x = ExchangeTexts::get(prefs.lang);
    let return_to = consent
        .terms
        .return_url
        .as_deref()
        .and_then(|u| views::return_link(u, &consent));
    let mut names = Names::new(&state.exchange, prefs.lang);
    let view = views::consent(&consent, &[], &mut names, prefs.lang).await;
    let title = if approved {
        x.approved_title
    } else {
        x.rejected_title
    };
    no_store(render(
        &DoneTemplate {
            page: page(prefs, title, &uri),
            x,
            approved,
            consent: view,
            return_to,
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "exchange_dashboard.html")]
struct DashboardTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    consents: Vec<ConsentView>,
    log: Vec<LogRow>,
    moved: Option<String>,
    csrf: String,
}

#[derive(Debug, Deserialize)]
struct DashboardQuery {
    moved: Option<String>,
}

/// `GET /exchange/consents`: every consent of the owner, with its uses and what may be done.
async fn dashboard(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<DashboardQuery>,
    owner: Owner,
) -> Response {
    let listed = match state
        .exchange
        .consents()
        .list_for_owner(&owner.resident)
        .await
    {
        Ok(listed) => listed,
        Err(e) => return internal(e),
    };
    let records = match bauhinia_exchange::chain::owner_log(
        &state.db,
        owner.resident.as_str(),
        None,
        LOG_ROWS_MAX,
    )
    .await
    {
        Ok(records) => records,
        Err(e) => return internal(e),
    };
    let x = ExchangeTexts::get(prefs.lang);
    let mut names = Names::new(&state.exchange, prefs.lang);
    let mut consents = Vec::with_capacity(listed.len());
    for item in &listed {
        consents.push(views::consent(&item.consent, &item.uses, &mut names, prefs.lang).await);
    }
    let moved = query.moved.filter(|m| consents.iter().any(|c| &c.id == m));
    no_store(render(
        &DashboardTemplate {
            page: page(prefs, x.dashboard_title, &uri),
            x,
            consents,
            log: records.iter().map(views::log_row).collect(),
            moved,
            csrf: owner.session.csrf,
        },
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "exchange_receipt.html")]
struct ReceiptTemplate {
    page: Page,
    x: &'static ExchangeTexts,
    id: String,
    receipt: ReceiptView,
}

async fn receipt_of(
    state: &ExchangePortalState,
    prefs: Prefs,
    uri: &axum::http::Uri,
    id: &str,
    owner: &Owner,
) -> Result<bauhinia_exchange::consent::receipt::Receipt, Response> {
    let consent = owned_consent(state, prefs, uri, id, owner).await?;
    let mut names = Names::new(&state.exchange, prefs.lang);
    let consumer = names.controller(&consent.terms.consumer).await;
    state
        .exchange
        .consents()
        .receipt_for_owner(&consent.id, &owner.resident, prefs.lang, &consumer)
        .await
        .map_err(|e| consent_error(prefs, uri, &e))
}

/// `GET /exchange/consents/{id}/receipt`: the consent receipt as a page.
async fn receipt_page(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    owner: Owner,
) -> Response {
    let receipt = match receipt_of(&state, prefs, &uri, &id, &owner).await {
        Ok(receipt) => receipt,
        Err(response) => return response,
    };
    let x = ExchangeTexts::get(prefs.lang);
    no_store(render(
        &ReceiptTemplate {
            page: page(prefs, x.receipt_title, &uri),
            x,
            id,
            receipt: views::receipt(&receipt),
        },
        StatusCode::OK,
    ))
}

/// `GET /exchange/consents/{id}/receipt.json`: the same receipt as JSON, to keep.
async fn receipt_json(
    State(state): State<ExchangePortalState>,
    prefs: Prefs,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    owner: Owner,
) -> Response {
    match receipt_of(&state, prefs, &uri, &id, &owner).await {
        Ok(receipt) => no_store(axum::Json(receipt).into_response()),
        Err(response) => response,
    }
}
