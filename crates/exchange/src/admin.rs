//! The operator's API under `/api/v1/admin/exchange` (the administrator token): register a
//! participant, suspend and reactivate it, replace its keys, set or clear its webhook endpoint,
//! list dead letters and replay them. Every change is audited by the service it calls, in the
//! transaction of the change, with the actor `admin`.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use bauhinia_core::admin::{Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::directory::{now_s, ParticipantDraft, KEY_GRACE_S};
use crate::http::ParticipantDoc;
use crate::webhooks::domain::occurred_at;
use crate::webhooks::store::{DeliveryRow, DEAD_LETTERS_MAX};
use crate::Exchange;

const TAG: &str = "exchange-admin";
/// Who the audit records name for these changes.
const ACTOR: &str = "admin";

#[derive(Debug, Clone)]
pub struct AdminState {
    pub exchange: Arc<Exchange>,
    pub token: Arc<AdminToken>,
}

impl FromRef<AdminState> for Arc<AdminToken> {
    fn from_ref(state: &AdminState) -> Arc<AdminToken> {
        Arc::clone(&state.token)
    }
}

pub fn router(state: AdminState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(exchange_admin_register))
        .routes(routes!(exchange_admin_suspend))
        .routes(routes!(exchange_admin_reactivate))
        .routes(routes!(exchange_admin_replace_keys))
        .routes(routes!(
            exchange_admin_set_webhook,
            exchange_admin_clear_webhook
        ))
        .routes(routes!(exchange_admin_dead_letters))
        .routes(routes!(exchange_admin_replay))
        .routes(routes!(exchange_admin_replay_participant))
        .with_state(state)
}

fn invalid(pointer: &str, detail: &str) -> Problem {
    Problem::new(ErrorCode::ExchangeAdminInvalid)
        .detail(format!("{pointer}: {detail}"))
        .errors(vec![FieldError::new(pointer, detail)])
}

async fn doc_of(exchange: &Exchange, id: &str) -> Result<Json<ParticipantDoc>, Problem> {
    let participant = exchange.directory().get(id).await?;
    Ok(Json(ParticipantDoc::from_participant(
        &participant,
        now_s(),
    )))
}

/// Registers a participant of the exchange: its id, names, roles, licence, FPS code, public
/// keys (a JWKS of ES256 P-256 keys) and the products it provides. Audited.
#[utoipa::path(post, path = "/api/v1/admin/exchange/participants", tag = TAG,
    request_body = ParticipantDraft,
    security(("admin_token" = [])),
    responses((status = 201, body = ParticipantDoc),
        (status = 400, description = "Not JSON (`request.malformed_json`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The id is taken (`exchange.participant_exists`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as JSON (`request.unsupported_media_type`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`exchange.participant_invalid`); `errors` names each by JSON Pointer.", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_register(
    State(state): State<AdminState>,
    _admin: Admin,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<ParticipantDoc>), Problem> {
    let bytes = serde_json::to_vec(&body).map_err(|e| Problem::internal(&e))?;
    let new = ParticipantDraft::from_json(&bytes)?;
    let participant = state.exchange.directory().register(&new, ACTOR).await?;
    Ok((
        StatusCode::CREATED,
        Json(ParticipantDoc::from_participant(&participant, now_s())),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Why (kept in the audit record, at most 200 characters).
    pub reason: String,
}

/// Suspends a participant: from the next request on, the gateway refuses it. Audited with the
/// reason; suspending a suspended participant changes nothing.
#[utoipa::path(post, path = "/api/v1/admin/exchange/participants/{participant}/suspend", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    request_body = SuspendRequest,
    security(("admin_token" = [])),
    responses((status = 200, body = ParticipantDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "No reason given (`exchange.admin_invalid`), or a field unknown or mistyped.", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_suspend(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SuspendRequest>,
) -> Result<Json<ParticipantDoc>, Problem> {
    if body.reason.trim().is_empty() {
        return Err(invalid("/reason", "say why the participant is suspended"));
    }
    let directory = state.exchange.directory();
    directory.suspend(&id, body.reason.trim(), ACTOR).await?;
    doc_of(&state.exchange, &id).await
}

/// Reactivates a suspended participant. Audited.
#[utoipa::path(post, path = "/api/v1/admin/exchange/participants/{participant}/reactivate", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    security(("admin_token" = [])),
    responses((status = 200, body = ParticipantDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_reactivate(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<ParticipantDoc>, Problem> {
    state.exchange.directory().reactivate(&id, ACTOR).await?;
    doc_of(&state.exchange, &id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeysRequest {
    /// The participant's new set of public keys (JWKS).
    #[schema(value_type = Object)]
    pub jwks: serde_json::Value,
    /// How long a dropped key keeps verifying, in seconds (0 to 30 days; default one day).
    #[serde(default)]
    pub grace_s: Option<i64>,
}

/// Replaces a participant's keys (rotation): kept keys unchanged, new keys verify at once,
/// dropped keys keep verifying for `grace_s`. Audited.
#[utoipa::path(put, path = "/api/v1/admin/exchange/participants/{participant}/keys", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    request_body = KeysRequest,
    security(("admin_token" = [])),
    responses((status = 200, body = ParticipantDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A key or the grace period is invalid (`exchange.participant_invalid`); `errors` names each.", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_replace_keys(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KeysRequest>,
) -> Result<Json<ParticipantDoc>, Problem> {
    let grace_s = body.grace_s.unwrap_or(KEY_GRACE_S);
    let directory = state.exchange.directory();
    let participant = directory
        .replace_keys(&id, &body.jwks, grace_s, ACTOR)
        .await?;
    Ok(Json(ParticipantDoc::from_participant(
        &participant,
        now_s(),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where notifications are POSTed: https, or http to localhost or a loopback address.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDoc {
    pub participant: String,
    /// The endpoint without its query string (which may hold the participant's own token).
    pub url: String,
}

/// Sets (or replaces) a participant's webhook endpoint. Deliveries are signed with the
/// gateway's published key, so the endpoint has no secret. Audited (without the query string).
#[utoipa::path(put, path = "/api/v1/admin/exchange/participants/{participant}/webhook", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    request_body = WebhookRequest,
    security(("admin_token" = [])),
    responses((status = 200, body = WebhookDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "The URL is not acceptable (`exchange.webhook_url_invalid`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_set_webhook(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> Result<Json<WebhookDoc>, Problem> {
    let url = state
        .exchange
        .webhooks()
        .set_endpoint(&id, &body.url, ACTOR)
        .await?;
    Ok(Json(WebhookDoc {
        participant: id,
        url: url.redacted(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClearedDoc {
    /// Pending deliveries cancelled with the endpoint.
    pub cancelled: u64,
}

/// Clears a participant's webhook endpoint; its pending deliveries are cancelled and no new
/// ones are made. Audited.
#[utoipa::path(delete, path = "/api/v1/admin/exchange/participants/{participant}/webhook", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    security(("admin_token" = [])),
    responses((status = 200, body = ClearedDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "It has no endpoint (`exchange.webhook_no_endpoint`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_clear_webhook(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<ClearedDoc>, Problem> {
    let cancelled = state.exchange.webhooks().clear_endpoint(&id, ACTOR).await?;
    Ok(Json(ClearedDoc { cancelled }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLettersQuery {
    /// Only this participant's.
    pub participant: Option<String>,
    /// Only those with a smaller id (the next page: the last id of this one).
    pub before: Option<i64>,
    /// At most this many (1 to 200; default 50).
    pub limit: Option<i64>,
}

/// A delivery whose every attempt failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterDoc {
    /// The delivery's id: replay it by this.
    pub id: i64,
    /// The event's id, the body's `id`.
    pub event_id: String,
    pub participant: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub consent: String,
    pub status: String,
    pub occurred_at: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
}

impl DeadLetterDoc {
    fn from_row(d: DeliveryRow) -> DeadLetterDoc {
        DeadLetterDoc {
            id: d.id,
            event_id: d.event_id,
            participant: d.participant,
            kind: d.kind,
            consent: d.consent,
            status: d.consent_status,
            occurred_at: occurred_at(d.occurred_at_s),
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
        }
    }
}

/// Dead letters, newest first: deliveries whose every attempt failed, waiting for a replay.
#[utoipa::path(get, path = "/api/v1/admin/exchange/dead-letters", tag = TAG,
    params(DeadLettersQuery),
    security(("admin_token" = [])),
    responses((status = 200, body = Vec<DeadLetterDoc>),
        (status = 400, description = "A malformed query (`request.invalid_query`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_dead_letters(
    State(state): State<AdminState>,
    _admin: Admin,
    q: Result<Query<DeadLettersQuery>, QueryRejection>,
) -> Result<Json<Vec<DeadLetterDoc>>, Problem> {
    let Query(q) = q.map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=DEAD_LETTERS_MAX).contains(&limit) {
        return Err(
            Problem::new(ErrorCode::InvalidQuery).detail(format!("limit: 1 to {DEAD_LETTERS_MAX}"))
        );
    }
    let rows = state
        .exchange
        .webhooks()
        .dead_letters(q.participant.as_deref(), q.before, limit)
        .await?;
    Ok(Json(
        rows.into_iter().map(DeadLetterDoc::from_row).collect(),
    ))
}

/// Replays one dead letter: it is due at once, with a fresh round of attempts, to the
/// participant's current endpoint. Audited.
#[utoipa::path(post, path = "/api/v1/admin/exchange/dead-letters/{delivery}/replay", tag = TAG,
    params(("delivery" = i64, Path, description = "The dead letter's id.")),
    security(("admin_token" = [])),
    responses((status = 202, description = "Queued for delivery."),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such dead letter (`exchange.webhook_dead_letter_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "Its participant has no endpoint now (`exchange.webhook_no_endpoint`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_replay(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(delivery): Path<String>,
) -> Result<StatusCode, Problem> {
    let not_found = || {
        Problem::new(ErrorCode::ExchangeWebhookDeadLetterNotFound)
            .detail(format!("no dead letter {delivery:?}"))
    };
    let id: i64 = delivery.parse().map_err(|_| not_found())?;
    state.exchange.webhooks().replay(id, ACTOR).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayedDoc {
    /// Dead letters queued for delivery again.
    pub replayed: u64,
}

/// Replays every dead letter of a participant. Audited.
#[utoipa::path(post, path = "/api/v1/admin/exchange/participants/{participant}/dead-letters/replay", tag = TAG,
    params(("participant" = String, Path, description = "The participant's id, e.g. `bank-004`.")),
    security(("admin_token" = [])),
    responses((status = 200, body = ReplayedDoc),
        (status = 401, description = "No administrator token (`admin.unauthorized`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such participant (`exchange.participant_not_found`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "It has no endpoint (`exchange.webhook_no_endpoint`).", body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn exchange_admin_replay_participant(
    State(state): State<AdminState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<ReplayedDoc>, Problem> {
    let replayed = state.exchange.webhooks().replay_all(&id, ACTOR).await?;
    Ok(Json(ReplayedDoc { replayed }))
}
