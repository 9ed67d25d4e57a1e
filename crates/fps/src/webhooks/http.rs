//! `/api/v1/fps/webhooks…` — a participant's webhook endpoints, their deliveries and
//! redelivery — and `GET /api/v1/fps/participants/{code}/notifications`, the camt.054 pull.
//! Participants authenticate with their API token; the operator may read and delete any
//! subscription but owns none.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, FieldError, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::domain::{EndpointUrl, EventPattern, Format, EVENT_TYPES_MAX};
use super::store::{DeliveryRow, SubscriptionRow};
use super::WebhookError;
use crate::http::{FpsCaller, FpsState};
use crate::switch::{Caller, ParticipantCode};

const TAG: &str = "fps";
/// The response header that gives the `after` of the next pull.
pub const NEXT_AFTER_HEADER: &str = "fps-next-after";

pub fn router(state: FpsState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_subscription, list_subscriptions))
        .routes(routes!(get_subscription, delete_subscription))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
        .routes(routes!(notifications))
        .with_state(state)
}

/// A webhook endpoint to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    /// Where events are POSTed: `https://…`; `http://` only to `localhost` or a loopback
    /// address. At most 2,048 bytes; no user name, password or fragment.
    pub url: String,
    /// Event types (`transfer.settled`) or prefixes (`transfer.*`) to receive; empty or absent:
    /// every event. At most 20.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// `json` (default) or `camt.054` (ISO 20022 XML for transfer and settlement events;
    /// other events still as JSON).
    #[serde(default)]
    pub format: Option<String>,
}

/// A webhook subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    pub participant: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub format: String,
    /// RFC 3339.
    pub created_at: String,
    /// The signing secret (`whsec_` and base64), only in the answer that issues it: Bauhinia
    /// keeps it sealed and never shows it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn rfc3339_s(s: i64) -> String {
    crate::wire::format_time(s.saturating_mul(1_000_000_000))
}

impl From<&SubscriptionRow> for SubscriptionView {
    fn from(r: &SubscriptionRow) -> SubscriptionView {
        SubscriptionView {
            id: r.id.clone(),
            participant: r.participant.clone(),
            url: r.url.clone(),
            event_types: r.event_types.clone(),
            format: r.format.clone(),
            created_at: rfc3339_s(r.created_at_s),
            secret: None,
        }
    }
}

/// A subscription as `caller` sees it: the operator does not see the query string of a
/// participant's address (it may hold the participant's own credential).
fn view_for(caller: Caller, row: &SubscriptionRow) -> SubscriptionView {
    let mut view = SubscriptionView::from(row);
    if caller == Caller::Operator {
        view.url = EndpointUrl::parse(&row.url).map_or_else(|_| String::new(), |u| u.redacted());
    }
    view
}

/// A new signing secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SecretView {
    /// Shown once; the previous secret signs beside it for 24 hours.
    pub secret: String,
}

/// One delivery of an event to a subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event's id: the `webhook-id` header of every attempt.
    pub event_id: String,
    pub event_type: String,
    pub event_seq: i64,
    /// `pending`, `delivered`, `failed` or `cancelled` (the subscription was deleted).
    pub status: String,
    pub attempts: i64,
    /// When the next attempt is due (RFC 3339), while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(d: &DeliveryRow) -> DeliveryView {
        DeliveryView {
            id: d.id,
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            event_seq: d.event_seq,
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending")
                .then(|| crate::wire::format_time(d.next_attempt_at_ms.saturating_mul(1_000_000))),
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            created_at: rfc3339_s(d.created_at_s),
            updated_at: rfc3339_s(d.updated_at_s),
        }
    }
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(t)| t)
        .map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))
}

/// Checks a registration, naming every bad field.
fn validate(
    request: &SubscriptionRequest,
) -> Result<(EndpointUrl, Vec<EventPattern>, Format), Problem> {
    let mut errors = Vec::new();
    let url = EndpointUrl::parse(request.url.trim())
        .map_err(|why| errors.push(FieldError::new("/url", why)))
        .ok();
    if request.event_types.len() > EVENT_TYPES_MAX {
        errors.push(FieldError::new(
            "/event_types",
            format!("must list at most {EVENT_TYPES_MAX} event types"),
        ));
    }
    let mut patterns = Vec::new();
    for (i, t) in request.event_types.iter().take(EVENT_TYPES_MAX).enumerate() {
        match EventPattern::parse(t) {
            Ok(p) if !patterns.contains(&p) => patterns.push(p),
            Ok(_) => errors.push(FieldError::new(
                format!("/event_types/{i}"),
                "is listed twice",
            )),
            Err(why) => errors.push(FieldError::new(format!("/event_types/{i}"), why)),
        }
    }
    let format = match request.format.as_deref() {
        None => Some(Format::Json),
        Some(text) => Format::parse(text),
    };
    if format.is_none() {
        errors.push(FieldError::new("/format", "must be json or camt.054"));
    }
    match (url, format, errors.is_empty()) {
        (Some(url), Some(format), true) => Ok((url, patterns, format)),
        _ => Err(Problem::new(ErrorCode::FpsWebhookInvalid).errors(errors)),
    }
}

/// Registers a webhook endpoint for the calling participant. The answer carries the signing
/// secret — the only time it is shown. Each event is POSTed with the Standard Webhooks headers
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` (see docs/webhooks.md), and retried
/// with backoff for 24 hours until the endpoint answers 2xx. At most 10 per participant.
#[utoipa::path(post, path = "/api/v1/fps/webhooks", tag = TAG,
    request_body = SubscriptionRequest,
    security(("fps_token" = [])),
    responses((status = 201, body = SubscriptionView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_subscription(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    ApiJson(request): ApiJson<SubscriptionRequest>,
) -> Result<(StatusCode, Json<SubscriptionView>), Problem> {
    let (url, patterns, format) = validate(&request)?;
    let Caller::Participant(code) = caller else {
        return Err(WebhookError::NotAParticipant.into());
    };
    let (row, secret) = state
        .webhooks
        .subscribe(code, &url, &patterns, format, &caller.actor())
        .await?;
    let mut view = SubscriptionView::from(&row);
    view.secret = Some(secret.to_text());
    Ok((StatusCode::CREATED, Json(view)))
}

/// The calling participant's webhook subscriptions (the operator: every participant's, with
/// addresses shown without their query strings).
#[utoipa::path(get, path = "/api/v1/fps/webhooks", tag = TAG,
    security(("fps_token" = [])),
    responses((status = 200, body = [SubscriptionView]),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_subscriptions(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
) -> Result<Json<Vec<SubscriptionView>>, Problem> {
    let rows = state.webhooks.list(caller).await?;
    Ok(Json(rows.iter().map(|r| view_for(caller, r)).collect()))
}

/// One webhook subscription (without its secret).
#[utoipa::path(get, path = "/api/v1/fps/webhooks/{id}", tag = TAG,
    params(("id" = String, Path, description = "The subscription's id")),
    security(("fps_token" = [])),
    responses((status = 200, body = SubscriptionView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_subscription(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(id): Path<String>,
) -> Result<Json<SubscriptionView>, Problem> {
    let row = state.webhooks.get(caller, &id).await?;
    Ok(Json(view_for(caller, &row)))
}

/// Deletes a webhook subscription; its pending deliveries are cancelled. Audited.
#[utoipa::path(delete, path = "/api/v1/fps/webhooks/{id}", tag = TAG,
    params(("id" = String, Path, description = "The subscription's id")),
    security(("fps_token" = [])),
    responses((status = 204),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn delete_subscription(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.webhooks.unsubscribe(caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a new signing secret for one of the participant's subscriptions, shown once. For 24
/// hours deliveries carry two signatures, by the new and the previous secret, so the receiver
/// can switch at leisure; then only the new one. Audited.
#[utoipa::path(post, path = "/api/v1/fps/webhooks/{id}/secret", tag = TAG,
    params(("id" = String, Path, description = "The subscription's id")),
    security(("fps_token" = [])),
    responses((status = 201, body = SecretView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn rotate_webhook_secret(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SecretView>), Problem> {
    let secret = state.webhooks.rotate_secret(caller, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(SecretView {
            secret: secret.to_text(),
        }),
    ))
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Deliveries older than this delivery id.
    pub before: Option<i64>,
    /// At most this many (1 to 100, default 50).
    pub limit: Option<i64>,
}

/// A subscription's recent deliveries, newest first: status, attempts, the last answer.
#[utoipa::path(get, path = "/api/v1/fps/webhooks/{id}/deliveries", tag = TAG,
    params(("id" = String, Path, description = "The subscription's id"), DeliveriesQuery),
    security(("fps_token" = [])),
    responses((status = 200, body = [DeliveryView]),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_deliveries(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(id): Path<String>,
    q: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<Vec<DeliveryView>>, Problem> {
    let q = query(q)?;
    let rows = state
        .webhooks
        .deliveries(caller, &id, q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(rows.iter().map(DeliveryView::from).collect()))
}

/// Delivers an event again: the delivery becomes due now with a fresh round of attempts,
/// whatever its status (same `webhook-id`).
#[utoipa::path(post, path = "/api/v1/fps/webhooks/{id}/deliveries/{delivery}/redeliver", tag = TAG,
    params(("id" = String, Path, description = "The subscription's id"),
        ("delivery" = i64, Path, description = "The delivery's id")),
    security(("fps_token" = [])),
    responses((status = 202),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn redeliver(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let delivery: i64 = delivery
        .parse()
        .map_err(|_| Problem::new(ErrorCode::FpsWebhookDeliveryNotFound))?;
    state.webhooks.redeliver(caller, &id, delivery).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationsQuery {
    /// Events after this `seq` (0, the default: from the first). Pass the previous answer's
    /// `fps-next-after` header.
    pub after: Option<i64>,
}

/// A participant's transfer and settlement events after a cursor, as one ISO 20022
/// camt.054.001.08 debit/credit notification (at most 1,000 entries; `NtryRef` is each event's
/// `seq`). The `fps-next-after` response header is the cursor for the next call. The
/// participant itself or the operator.
#[utoipa::path(get, path = "/api/v1/fps/participants/{code}/notifications", tag = TAG,
    params(("code" = String, Path, description = "The 3-digit participant code"), NotificationsQuery),
    security(("fps_token" = [])),
    responses((status = 200, description = "A camt.054.001.08 notification", body = String, content_type = "application/xml"),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn notifications(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(code): Path<String>,
    q: Result<Query<NotificationsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = query(q)?;
    let code = ParticipantCode::parse(&code).ok_or_else(|| {
        Problem::new(ErrorCode::FpsParticipantNotFound)
            .detail("a participant code has 3 digits, such as 004")
    })?;
    if let Caller::Participant(own) = caller {
        if own != code {
            return Err(Problem::new(ErrorCode::FpsForbidden)
                .detail("a participant sees only its own notifications"));
        }
    }
    if state.switch.participant(code).is_none() {
        return Err(Problem::new(ErrorCode::FpsParticipantNotFound));
    }
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(Problem::new(ErrorCode::InvalidQuery).detail("after must be 0 or more"));
    }
    let (message, next) = state.webhooks.notifications(code, after).await?;
    let mut response = message.to_xml().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&next.to_string()) {
        headers.insert(HeaderName::from_static(NEXT_AFTER_HEADER), value);
    }
    Ok(response)
}
