//! The flows' API under `/api/v1/fps`: requests to pay (`/requests…`), eDDA mandates and their
//! direct debits (`/mandates…`), and returns and refunds of transfers
//! (`/transfers/{id}/return|refund|returns`). Participants only (their API token); the operator
//! is refused. Handlers extract, convert the body (every fault named) and call the service.

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{ErrorCode, Problem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::domain::{MandateAction, MandateStatus, RequestAction, RequestStatus, ReturnKind, Side};
use super::service::{Answer, FlowError, Page};
use super::wire::{
    DebitBody, DebitView, MandateBody, MandateView, PayBody, RequestToPayBody, RequestView,
    ReturnBody, ReturnView, ReturnsPage,
};
use crate::http::{FpsCaller, FpsState};
use crate::switch::{Caller, ParticipantCode};
use crate::wire::parse_id;

const TAG: &str = "fps";

pub fn router(state: FpsState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(get_request))
        .routes(routes!(pay_request))
        .routes(routes!(decline_request))
        .routes(routes!(cancel_request))
        .routes(routes!(create_mandate, list_mandates))
        .routes(routes!(get_mandate))
        .routes(routes!(confirm_mandate))
        .routes(routes!(reject_mandate))
        .routes(routes!(suspend_mandate))
        .routes(routes!(resume_mandate))
        .routes(routes!(cancel_mandate))
        .routes(routes!(create_debit, list_debits))
        .routes(routes!(return_transfer))
        .routes(routes!(refund_transfer))
        .routes(routes!(list_returns))
        .with_state(state.clone())
        .merge(super::iso::router(state))
}

/// A participant, proven by its API token; the operator's token is refused (403): flows are
/// between participants.
#[derive(Debug, Clone, Copy)]
pub struct FlowCaller(pub ParticipantCode);

impl FromRequestParts<FpsState> for FlowCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &FpsState,
    ) -> Result<FlowCaller, Response> {
        match FpsCaller::from_request_parts(parts, state).await?.0 {
            Caller::Participant(code) => Ok(FlowCaller(code)),
            Caller::Operator => Err(Problem::new(ErrorCode::FpsFlowForbidden)
                .detail("requests to pay, mandates, debits and returns are made by participants: use a participant's token")
                .into_response()),
        }
    }
}

fn now_s() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn answer<T: Serialize>(a: Answer<T>) -> Response {
    let status = if a.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(a.view)).into_response()
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))
}

fn invalid(code: ErrorCode) -> impl Fn(Vec<bauhinia_core::FieldError>) -> Problem {
    move |errors| FlowError::Invalid(code, errors).into()
}

/// A page of a list, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

impl<T> From<Page<T>> for ListPage<T> {
    fn from(p: Page<T>) -> ListPage<T> {
        ListPage {
            items: p.items,
            next: p.next,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests to pay

/// Asks another participant's customer for money: the caller is the payee's participant. 201
/// when made; 200 with the original when the id and body were sent before; 409 when the id was
/// used for another body.
#[utoipa::path(post, path = "/api/v1/fps/requests", tag = TAG,
    request_body = RequestToPayBody,
    security(("fps_token" = [])),
    responses((status = 201, body = RequestView), (status = 200, body = RequestView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_request(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    ApiJson(body): ApiJson<RequestToPayBody>,
) -> Result<Response, Problem> {
    let new = body
        .check()
        .map_err(invalid(ErrorCode::FpsRequestInvalid))?;
    Ok(answer(
        state.flows.create_request(caller, new, now_s()).await?,
    ))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestRole {
    Payer,
    Payee,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestQuery {
    /// `payer` or `payee`: the caller's side (both when omitted).
    #[param(value_type = Option<String>)]
    pub role: Option<RequestRole>,
    /// `pending`, `settling`, `paid`, `declined`, `cancelled` or `expired`.
    pub status: Option<String>,
    /// Older than this cursor (from `next`).
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    pub limit: Option<i64>,
}

/// The caller's requests to pay, as payer or payee, newest first.
#[utoipa::path(get, path = "/api/v1/fps/requests", tag = TAG,
    params(RequestQuery),
    security(("fps_token" = [])),
    responses((status = 200, body = ListPage<RequestView>),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_requests(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    q: Result<Query<RequestQuery>, QueryRejection>,
) -> Result<Json<ListPage<RequestView>>, Problem> {
    let q = query(q)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            RequestStatus::parse(s).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery)
                    .detail("status is pending, settling, paid, declined, cancelled or expired")
            })
        })
        .transpose()?;
    let side = q.role.map(|r| match r {
        RequestRole::Payer => Side::Payer,
        RequestRole::Payee => Side::Payee,
    });
    let page = state
        .flows
        .requests(
            caller,
            side,
            status,
            q.before,
            q.limit.unwrap_or(50),
            now_s(),
        )
        .await?;
    Ok(Json(page.into()))
}

/// One request to pay (its payer or payee only).
#[utoipa::path(get, path = "/api/v1/fps/requests/{id}", tag = TAG,
    params(("id" = String, Path, description = "The request's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = RequestView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_request(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, Problem> {
    Ok(Json(state.flows.request(caller, &id, now_s()).await?))
}

/// Pays a pending request with a transfer (purpose `request_to_pay`, `related_id` the request):
/// the payer's participant only. Paid once the ledger accepted it; a refused transfer leaves
/// the request pending (422 `fps.transfer_refused`). A retry with the same transfer id answers
/// the same payment.
#[utoipa::path(post, path = "/api/v1/fps/requests/{id}/pay", tag = TAG,
    params(("id" = String, Path, description = "The request's UUID")),
    request_body = PayBody,
    security(("fps_token" = [])),
    responses((status = 200, body = RequestView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn pay_request(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PayBody>,
) -> Result<Json<RequestView>, Problem> {
    let mut faults = super::wire::Faults::default();
    let transfer_id = faults.id("/transfer_id", &body.transfer_id);
    faults
        .finish()
        .map_err(invalid(ErrorCode::FpsRequestInvalid))?;
    let transfer_id = transfer_id.ok_or_else(|| Problem::new(ErrorCode::FpsRequestInvalid))?;
    Ok(Json(
        state
            .flows
            .pay_request(caller, &id, transfer_id, now_s())
            .await?,
    ))
}

async fn move_request(
    state: &FpsState,
    caller: ParticipantCode,
    id: &str,
    action: RequestAction,
) -> Result<Json<RequestView>, Problem> {
    Ok(Json(
        state
            .flows
            .move_request(caller, id, action, now_s())
            .await?,
    ))
}

/// Declines a pending request: the payer's participant only.
#[utoipa::path(post, path = "/api/v1/fps/requests/{id}/decline", tag = TAG,
    params(("id" = String, Path, description = "The request's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = RequestView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn decline_request(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, Problem> {
    move_request(&state, caller, &id, RequestAction::Decline).await
}

/// Cancels a pending request: the payee's participant only.
#[utoipa::path(post, path = "/api/v1/fps/requests/{id}/cancel", tag = TAG,
    params(("id" = String, Path, description = "The request's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = RequestView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn cancel_request(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, Problem> {
    move_request(&state, caller, &id, RequestAction::Cancel).await
}

// ---------------------------------------------------------------------------------------------
// Mandates

/// Sets up an eDDA mandate: `standard` by the debtor's participant (active at once),
/// `simplified` by the creditor's (pending until the debtor's confirms the payer's consent).
/// Account references are kept sealed and shown only to their own side.
#[utoipa::path(post, path = "/api/v1/fps/mandates", tag = TAG,
    request_body = MandateBody,
    security(("fps_token" = [])),
    responses((status = 201, body = MandateView), (status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    ApiJson(body): ApiJson<MandateBody>,
) -> Result<Response, Problem> {
    let new = body
        .check()
        .map_err(invalid(ErrorCode::FpsMandateInvalid))?;
    Ok(answer(
        state.flows.create_mandate(caller, new, now_s()).await?,
    ))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MandateRole {
    Debtor,
    Creditor,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MandateQuery {
    /// `debtor` or `creditor`: the caller's side (both when omitted).
    #[param(value_type = Option<String>)]
    pub role: Option<MandateRole>,
    /// `pending`, `active`, `suspended`, `cancelled` or `rejected`.
    pub status: Option<String>,
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    pub limit: Option<i64>,
}

/// The caller's mandates, as debtor or creditor, newest first.
#[utoipa::path(get, path = "/api/v1/fps/mandates", tag = TAG,
    params(MandateQuery),
    security(("fps_token" = [])),
    responses((status = 200, body = ListPage<MandateView>),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_mandates(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    q: Result<Query<MandateQuery>, QueryRejection>,
) -> Result<Json<ListPage<MandateView>>, Problem> {
    let q = query(q)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            MandateStatus::parse(s).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery)
                    .detail("status is pending, active, suspended, cancelled or rejected")
            })
        })
        .transpose()?;
    let side = q.role.map(|r| match r {
        MandateRole::Debtor => Side::Payer,
        MandateRole::Creditor => Side::Payee,
    });
    let page = state
        .flows
        .mandates(caller, side, status, q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(page.into()))
}

/// One mandate (its debtor or creditor participant only).
#[utoipa::path(get, path = "/api/v1/fps/mandates/{id}", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    Ok(Json(state.flows.mandate(caller, &id).await?))
}

async fn move_mandate(
    state: &FpsState,
    caller: ParticipantCode,
    id: &str,
    action: MandateAction,
) -> Result<Json<MandateView>, Problem> {
    Ok(Json(
        state
            .flows
            .move_mandate(caller, id, action, now_s())
            .await?,
    ))
}

/// Confirms a pending (simplified) mandate: the payer consented. The debtor's participant only.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/confirm", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn confirm_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    move_mandate(&state, caller, &id, MandateAction::Confirm).await
}

/// Rejects a pending (simplified) mandate: the payer did not consent. The debtor's participant
/// only.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/reject", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn reject_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    move_mandate(&state, caller, &id, MandateAction::Reject).await
}

/// Suspends an active mandate (no debits until resumed). The debtor's participant only.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/suspend", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn suspend_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    move_mandate(&state, caller, &id, MandateAction::Suspend).await
}

/// Resumes a suspended mandate. The debtor's participant only.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/resume", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn resume_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    move_mandate(&state, caller, &id, MandateAction::Resume).await
}

/// Cancels a mandate for good. Either participant.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/cancel", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = MandateView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn cancel_mandate(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<MandateView>, Problem> {
    move_mandate(&state, caller, &id, MandateAction::Cancel).await
}

// ---------------------------------------------------------------------------------------------
// Direct debits

/// Collects a direct debit under an active mandate: the creditor's participant only. Checked
/// against the mandate (dates, currency, per-debit limit), reserved against the period's limit,
/// then settled debtor → creditor (purpose `direct_debit`, `related_id` the mandate). 201 with
/// status `settled`, or `refused` and the ledger's reason (the reservation released); 200 with
/// the original answer to a retry; 422 `fps.mandate_limit_exceeded` when over a limit.
#[utoipa::path(post, path = "/api/v1/fps/mandates/{id}/debits", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID")),
    request_body = DebitBody,
    security(("fps_token" = [])),
    responses((status = 201, body = DebitView), (status = 200, body = DebitView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_debit(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DebitBody>,
) -> Result<Response, Problem> {
    let new = body.check().map_err(invalid(ErrorCode::FpsDebitInvalid))?;
    Ok(answer(state.flows.debit(caller, &id, new, now_s()).await?))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    pub limit: Option<i64>,
}

/// The debits of a mandate, newest first (either participant).
#[utoipa::path(get, path = "/api/v1/fps/mandates/{id}/debits", tag = TAG,
    params(("id" = String, Path, description = "The mandate's UUID"), PageQuery),
    security(("fps_token" = [])),
    responses((status = 200, body = ListPage<DebitView>),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_debits(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ListPage<DebitView>>, Problem> {
    let q = query(q)?;
    let page = state
        .flows
        .debits(caller, &id, q.before, q.limit.unwrap_or(50))
        .await?;
    Ok(Json(page.into()))
}

// ---------------------------------------------------------------------------------------------
// Returns and refunds

async fn give_back(
    state: &FpsState,
    caller: ParticipantCode,
    original: &str,
    body: &ReturnBody,
    kind: ReturnKind,
) -> Result<Response, Problem> {
    let original =
        parse_id(original).ok_or_else(|| Problem::new(ErrorCode::FpsTransferNotFound))?;
    let new = body
        .check(kind)
        .map_err(invalid(ErrorCode::FpsReturnInvalid))?;
    Ok(answer(
        state
            .flows
            .return_transfer(caller, original, new, now_s())
            .await?,
    ))
}

/// Returns a settled transfer, in part or whole, with an ISO 20022 reason (`AC04` closed
/// account, `AM09` wrong amount, `MD06` a disputed direct debit, …): the original's creditor
/// participant only, never more in total than the original. Settled creditor → debtor
/// (purpose `return`, `related_id` the original). 201 `settled` or `refused`; 200 on a retry.
#[utoipa::path(post, path = "/api/v1/fps/transfers/{id}/return", tag = TAG,
    params(("id" = String, Path, description = "The original transfer's UUID")),
    request_body = ReturnBody,
    security(("fps_token" = [])),
    responses((status = 201, body = ReturnView), (status = 200, body = ReturnView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn return_transfer(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReturnBody>,
) -> Result<Response, Problem> {
    give_back(&state, caller, &id, &body, ReturnKind::Return).await
}

/// Refunds a settled transfer (a merchant's refund), in part or whole: the original's creditor
/// participant only, never more in total than the original. Purpose `refund`.
#[utoipa::path(post, path = "/api/v1/fps/transfers/{id}/refund", tag = TAG,
    params(("id" = String, Path, description = "The original transfer's UUID")),
    request_body = ReturnBody,
    security(("fps_token" = [])),
    responses((status = 201, body = ReturnView), (status = 200, body = ReturnView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn refund_transfer(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReturnBody>,
) -> Result<Response, Problem> {
    give_back(&state, caller, &id, &body, ReturnKind::Refund).await
}

/// The returns and refunds of a transfer and what remains of it (either party of the original).
#[utoipa::path(get, path = "/api/v1/fps/transfers/{id}/returns", tag = TAG,
    params(("id" = String, Path, description = "The original transfer's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = ReturnsPage),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn list_returns(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    Path(id): Path<String>,
) -> Result<Json<ReturnsPage>, Problem> {
    let original = parse_id(&id).ok_or_else(|| Problem::new(ErrorCode::FpsTransferNotFound))?;
    Ok(Json(state.flows.returns(caller, original).await?))
}
