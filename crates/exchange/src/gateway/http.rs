//! The participants' signed API under `/api/v1/exchange/consents`:
//!
//! - `POST /api/v1/exchange/consents` — a data consumer asks for a consent; the answer names
//!   the portal page the consumer sends the owner to (`approval_url`).
//! - `GET /api/v1/exchange/consents?role=consumer|provider` — the consents a consumer asked for,
//!   or that name a provider.
//! - `GET /api/v1/exchange/consents/{consent}` — one consent, to its consumer and its providers:
//!   its status and, once ACTIVE, the artefact the gateway signed.
//! - `POST /api/v1/exchange/consents/{consent}/fetch` — a consented, data-blind fetch: the
//!   answer is the provider's, byte for byte, with its signature (`x-jws-signature`).
//!
//! Every request names its participant (`x-participant-id`) and is signed (`x-jws-signature`,
//! a detached JWS bound to the method and path); a `jti` is accepted once. Refusals are audited.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::{ErrorCode, FieldError, Problem};
use bauhinia_identity::IdentityService;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{self, claimed_participant, Caller};
use super::limited_problem;
use crate::consent::domain::{rfc3339, Consent, ConsentId, ParticipantId};
use crate::crypto::jws::{self, now_s};
use crate::crypto::replay::{self, Recorded};
use crate::directory::Role;
use crate::Exchange;

const TAG: &str = "exchange";
/// The largest consent request read.
const CONSENT_BODY_MAX: usize = 64 * 1024;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct GatewayState {
    pub exchange: Arc<Exchange>,
    /// Resolves an owner named by HKID to the resident (never stored or logged).
    pub identity: Arc<IdentityService>,
}

pub fn router(state: GatewayState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_exchange_consent, list_exchange_consents))
        .routes(routes!(get_exchange_consent))
        .routes(routes!(fetch_exchange_data))
        .with_state(state)
}

/// A problem as a response, with `Retry-After` when given.
fn answer(problem: Problem, retry_after_s: Option<u64>) -> Response {
    let mut response = problem.into_response();
    if let Some(seconds) = retry_after_s {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// A refusal made before the handler's work: the response itself (boxed: it is large).
type Refused = Box<Response>;

fn refused(problem: Problem, retry_after_s: Option<u64>) -> Refused {
    Box::new(answer(problem, retry_after_s))
}

/// A request split into what the checks need.
struct Incoming {
    method: Method,
    path: String,
    headers: HeaderMap,
    ip: IpAddr,
    body: Bytes,
}

async fn incoming(request: Request, limit: usize) -> Result<Incoming, Refused> {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |ConnectInfo(addr)| {
            addr.ip()
        });
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        refused(
            Problem::new(ErrorCode::BodyTooLarge)
                .detail(format!("the body is larger than {limit} bytes")),
            None,
        )
    })?;
    Ok(Incoming {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        ip,
        body,
    })
}

/// Authenticates the request (see [`auth::authenticate`]) and counts it against the caller's
/// rate limit. A failure is audited and counted against the address.
async fn caller(
    exchange: &Exchange,
    role: Option<Role>,
    req: &Incoming,
    subject: &str,
) -> Result<Caller, Refused> {
    if let Err((which, wait)) = exchange.limits().blocked(req.ip) {
        let (problem, seconds) = limited_problem(which, wait);
        return Err(refused(problem, Some(seconds)));
    }
    let now = now_s();
    match auth::authenticate(
        exchange.directory(),
        role,
        req.method.as_str(),
        &req.path,
        &req.headers,
        &req.body,
        now,
    )
    .await
    {
        Ok(caller) => {
            if let Err((which, wait)) = exchange
                .limits()
                .participant(caller.participant.id.as_str())
            {
                let (problem, seconds) = limited_problem(which, wait);
                return Err(refused(problem, Some(seconds)));
            }
            Ok(caller)
        }
        Err(error) => {
            let problem = error.problem();
            if problem.code != ErrorCode::Internal {
                exchange.limits().failed(req.ip);
                let actor = claimed_participant(&req.headers)
                    .map_or_else(|| "anonymous".to_owned(), |id| format!("unverified:{id}"));
                super::audit_refusal(
                    exchange,
                    &actor,
                    "exchange.request.refused",
                    subject.to_owned(),
                    json!({
                        "reason": error.reason(),
                        "code": problem.code.code(),
                        "method": req.method.as_str(),
                        "path": req.path,
                    }),
                )
                .await;
            }
            Err(refused(problem, None))
        }
    }
}

/// Records the caller's request id once; a replay is refused and audited.
async fn fresh(exchange: &Exchange, caller: &Caller, subject: &str) -> Result<(), Refused> {
    let now = now_s();
    match replay::record_once(exchange.consents().store().db(), &caller.verified, now).await {
        Ok(Recorded::Fresh) => Ok(()),
        Ok(Recorded::Replayed) => {
            super::audit_refusal(
                exchange,
                &format!("participant:{}", caller.participant.id),
                "exchange.request.refused",
                subject.to_owned(),
                json!({ "reason": "replayed", "code": ErrorCode::ExchangeRequestReplayed.code() }),
            )
            .await;
            Err(refused(
                Problem::new(ErrorCode::ExchangeRequestReplayed),
                None,
            ))
        }
        Err(e) => Err(refused(Problem::internal(&e), None)),
    }
}

/// How the request's id is kept against replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Replay {
    /// Recorded here, before the handler's work.
    Record,
    /// Recorded by the handler's own transaction, with its effects.
    InWork,
}

/// Reads the request (at most `limit` bytes of body), authenticates its caller for `role`,
/// and keeps its id against replay as `replay` says.
async fn authenticated(
    exchange: &Exchange,
    request: Request,
    limit: usize,
    role: Option<Role>,
    subject: &str,
    replay: Replay,
) -> Result<(Incoming, Caller), Refused> {
    let req = incoming(request, limit).await?;
    let caller = caller(exchange, role, &req, subject).await?;
    if replay == Replay::Record {
        fresh(exchange, &caller, subject).await?;
    }
    Ok((req, caller))
}

/// A consent as its consumer and providers see it.
pub fn consent_doc(consent: &Consent, exchange: &Exchange) -> Value {
    let t = &consent.terms;
    json!({
        "id": consent.id,
        "status": consent.status,
        "purpose": { "code": t.purpose.code, "text": t.purpose.text },
        "products": t.products,
        "owner": t.owner.to_json(),
        "consumer": t.consumer,
        "providers": t.providers,
        "data_range": { "from": rfc3339(t.data_range.from_s), "to": rfc3339(t.data_range.to_s) },
        "frequency": { "unit": t.frequency.unit.as_str(), "value": t.frequency.value },
        "validity": { "from": rfc3339(t.validity.from_s), "until": rfc3339(t.validity.to_s) },
        "mode": t.mode,
        "fetch_type": t.fetch_type,
        "data_life": t.data_life.map(|l| json!({ "unit": l.unit.as_str(), "value": l.value })),
        "return_url": t.return_url,
        "created_at": rfc3339(consent.created_at_s),
        "approval_deadline": rfc3339(consent.approval_deadline_s),
        "updated_at": rfc3339(consent.updated_at_s),
        "approval_url": exchange.approval_url(consent.id.as_str()),
        "artefact": consent.artefact,
    })
}

/// Ask an owner for consent.
///
/// The body is a consent request: purpose, products, owner (`{"resident": id}` or
/// `{"hkid": "A123456(3)"}`, or a company with its representative), providers, data range,
/// frequency, validity, mode, fetch type, data life and an optional `return_url`. The consent
/// is PENDING until its owner approves it in the portal at `approval_url` (15 minutes).
#[utoipa::path(post, path = "/api/v1/exchange/consents", tag = TAG,
    params(("x-participant-id" = String, Header, description = "The calling data consumer's id.")),
    security(("participant_signature" = [])),
    request_body(content = Object, description = "The consent request.", content_type = "application/json"),
    responses((status = 201, description = "The consent, PENDING, with `approval_url`.", body = Object),
        (status = 401, description = "Not signed, or not verifiable (`exchange.signature_*`, `exchange.request_stale`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The caller is suspended or not a data consumer.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "A replayed request (`exchange.request_replayed`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The request is invalid (`exchange.consent_invalid`, `errors` by JSON Pointer).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "A rate limit (`exchange.rate_limited`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_exchange_consent(
    axum::extract::State(state): axum::extract::State<GatewayState>,
    request: Request,
) -> Response {
    let exchange = &state.exchange;
    let (req, caller) = match authenticated(
        exchange,
        request,
        CONSENT_BODY_MAX,
        Some(Role::Consumer),
        "exchange:consents",
        Replay::Record,
    )
    .await
    {
        Ok(done) => done,
        Err(response) => return *response,
    };
    let mut json: Value = match serde_json::from_slice(&req.body) {
        Ok(json) => json,
        Err(_) => {
            return answer(
                Problem::new(ErrorCode::ExchangeConsentInvalid)
                    .errors(vec![FieldError::new("", "must be a JSON object")]),
                None,
            )
        }
    };
    if let Err(problem) = super::resolve_owner(&state.identity, &mut json).await {
        return answer(problem, None);
    }
    let Some(consumer) = ParticipantId::parse(caller.participant.id.as_str()) else {
        return answer(Problem::new(ErrorCode::Internal), None);
    };
    match exchange.consents().request(&consumer, &json, now_s()).await {
        Ok(consent) => (StatusCode::CREATED, Json(consent_doc(&consent, exchange))).into_response(),
        Err(e) => answer(e.problem(), None),
    }
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `consumer` (the consents the caller asked for; the default for a consumer) or
    /// `provider` (the consents that name the caller).
    pub role: Option<String>,
}

/// The consents a consumer asked for, or that name a provider (newest first, at most 200).
#[utoipa::path(get, path = "/api/v1/exchange/consents", tag = TAG,
    params(ListQuery,
        ("x-participant-id" = String, Header, description = "The calling participant's id.")),
    security(("participant_signature" = [])),
    responses((status = 200, description = "The consents.", body = Vec<Object>),
        (status = 400, description = "An unknown role (`request.invalid_query`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Not signed, or not verifiable.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The caller is suspended, or not registered for the role.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "A replayed request.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "A rate limit.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_exchange_consents(
    axum::extract::State(state): axum::extract::State<GatewayState>,
    request: Request,
) -> Response {
    let query: ListQuery = match axum::extract::Query::try_from_uri(request.uri()) {
        Ok(axum::extract::Query(q)) => q,
        Err(e) => {
            return answer(
                Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()),
                None,
            )
        }
    };
    let role = match query.role.as_deref() {
        None => None,
        Some("consumer") => Some(Role::Consumer),
        Some("provider") => Some(Role::Provider),
        Some(other) => {
            return answer(
                Problem::new(ErrorCode::InvalidQuery).detail(format!(
                    "role: unknown value {other:?} (consumer or provider)"
                )),
                None,
            )
        }
    };
    let exchange = &state.exchange;
    let caller = match authenticated(
        exchange,
        request,
        0,
        role,
        "exchange:consents",
        Replay::Record,
    )
    .await
    {
        Ok((_, caller)) => caller,
        Err(response) => return *response,
    };
    let role = role.unwrap_or(if caller.participant.roles.allows(Role::Consumer) {
        Role::Consumer
    } else {
        Role::Provider
    });
    let Some(id) = ParticipantId::parse(caller.participant.id.as_str()) else {
        return answer(Problem::new(ErrorCode::Internal), None);
    };
    let listed = match role {
        Role::Consumer => exchange.consents().list_for_consumer(&id).await,
        Role::Provider => exchange.consents().list_for_provider(&id).await,
    };
    match listed {
        Ok(consents) => Json(
            consents
                .iter()
                .map(|c| consent_doc(c, exchange))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => answer(e.problem(), None),
    }
}

fn consent_id(text: &str) -> Result<ConsentId, Refused> {
    ConsentId::parse(text)
        .ok_or_else(|| refused(Problem::new(ErrorCode::ExchangeConsentNotFound), None))
}

/// One consent, to its consumer or a provider it names.
#[utoipa::path(get, path = "/api/v1/exchange/consents/{consent}", tag = TAG,
    params(("consent" = String, Path, description = "The consent's id."),
        ("x-participant-id" = String, Header, description = "The calling participant's id.")),
    security(("participant_signature" = [])),
    responses((status = 200, description = "The consent; `artefact` is the gateway's signed artefact once ACTIVE.", body = Object),
        (status = 401, description = "Not signed, or not verifiable.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The caller is suspended.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No consent with this id names the caller (`exchange.consent_not_found`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "A replayed request.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "A rate limit.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_exchange_consent(
    axum::extract::State(state): axum::extract::State<GatewayState>,
    Path(consent): Path<String>,
    request: Request,
) -> Response {
    let exchange = &state.exchange;
    let subject = format!("consent:{consent}");
    let caller = match authenticated(exchange, request, 0, None, &subject, Replay::Record).await {
        Ok((_, caller)) => caller,
        Err(response) => return *response,
    };
    let id = match consent_id(&consent) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    let Some(me) = ParticipantId::parse(caller.participant.id.as_str()) else {
        return answer(Problem::new(ErrorCode::Internal), None);
    };
    match exchange.consents().for_participant(&id, &me).await {
        Ok(consent) => Json(consent_doc(&consent, exchange)).into_response(),
        Err(e) => answer(e.problem(), None),
    }
}

/// Fetch data under a consent, data-blind.
///
/// The body names the provider, the products, the dates and the consumer's one-time X25519
/// key material (see docs/exchange-encryption.md). The answer is the provider's JSON, byte
/// for byte: the envelope sealed to that key, with the provider's detached JWS over those
/// bytes in `x-jws-signature` (bound to this request's `jti`). The gateway can read none of
/// it and stores none of it.
#[utoipa::path(post, path = "/api/v1/exchange/consents/{consent}/fetch", tag = TAG,
    params(("consent" = String, Path, description = "The consent's id."),
        ("x-participant-id" = String, Header, description = "The calling data consumer's id.")),
    security(("participant_signature" = [])),
    request_body(content = Object, description = "The data request.", content_type = "application/json"),
    responses((status = 200, description = "The provider's signed answer with the sealed envelope.", body = Object),
        (status = 401, description = "Not signed, or not verifiable.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The consent does not allow it (`exchange.consent_*`), or a participant is suspended.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such consent, or no such provider.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "A replayed request.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The data request is invalid (`exchange.fetch_invalid`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 429, description = "A rate limit or the consent's frequency limit.",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 502, description = "The provider did not answer (`exchange.provider_unavailable`).",
         body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn fetch_exchange_data(
    axum::extract::State(state): axum::extract::State<GatewayState>,
    Path(consent): Path<String>,
    request: Request,
) -> Response {
    let exchange = &state.exchange;
    let (req, caller) = match authenticated(
        exchange,
        request,
        super::fetch::BODY_MAX_BYTES,
        Some(Role::Consumer),
        &format!("consent:{consent}"),
        Replay::InWork,
    )
    .await
    {
        Ok(done) => done,
        Err(response) => return *response,
    };
    let id = match consent_id(&consent) {
        Ok(id) => id,
        Err(response) => return *response,
    };
    match super::fetch(exchange, &caller, &id, &req.body, now_s()).await {
        Ok(fetched) => {
            let mut response = (StatusCode::OK, fetched.answer.body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            for (name, value) in [
                (jws::HEADER_NAME, fetched.answer.signature),
                ("x-exchange-session", fetched.session),
                ("x-exchange-provider", fetched.provider),
                ("x-exchange-use", fetched.use_id.to_string()),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            }
            response
        }
        Err(error) => {
            let (problem, retry) = error.problem();
            answer(problem, retry)
        }
    }
}
