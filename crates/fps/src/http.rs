//! The switch's JSON API under `/api/v1/fps`: the participant directory, settlement funding
//! (the operator), transfers (single and batched), positions. Participants authenticate with
//! their API token, the operator with the administrator token (`Authorization: Bearer`).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bauhinia_core::admin::{bearer_token, Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{Currency, ErrorCode, FieldError, Money, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ledger::model::{Outcome, BATCH_MAX};
use crate::ledger::Transfer;
use crate::switch::{
    Caller, Inadmissible, Participant, ParticipantCode, ParticipantKind, Settlement, Switch,
    SwitchError,
};
use crate::wire::{
    parse_id, BatchRequest, BatchResponse, TransferRequest, TransferResult, TransferView,
};

const TAG: &str = "fps";
/// A batch of 8,189 transfers is about 2 MB of JSON.
const BATCH_BODY_MAX: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct FpsState {
    pub switch: Arc<Switch>,
    pub admin: Arc<AdminToken>,
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Requests to pay, mandates, direct debits, returns and refunds.
    pub flows: Arc<crate::flows::FlowService>,
}

impl FromRef<FpsState> for Arc<AdminToken> {
    fn from_ref(state: &FpsState) -> Arc<AdminToken> {
        Arc::clone(&state.admin)
    }
}

pub fn router(state: FpsState) -> OpenApiRouter {
    let batch = OpenApiRouter::new()
        .routes(routes!(create_batch))
        .layer(DefaultBodyLimit::max(BATCH_BODY_MAX))
        .with_state(state.clone());
    OpenApiRouter::new()
        .routes(routes!(list_participants, register_participant))
        .routes(routes!(issue_token))
        .routes(routes!(positions))
        .routes(routes!(settlement))
        .routes(routes!(create_transfer))
        .routes(routes!(get_transfer))
        .routes(routes!(participant_transfers))
        .routes(routes!(statement))
        .with_state(state.clone())
        .merge(batch)
        .merge(crate::webhooks::http::router(state.clone()))
        .merge(crate::flows::http::router(state.clone()))
        .merge(crate::iso_http::router(state))
}

/// The authenticated caller: a participant (its API token) or the operator.
#[derive(Debug, Clone, Copy)]
pub struct FpsCaller(pub Caller);

impl FromRequestParts<FpsState> for FpsCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &FpsState,
    ) -> Result<FpsCaller, Response> {
        // The rate limiter may have authenticated the participant already.
        if let Some(caller) = parts.extensions.get::<FpsCaller>() {
            return Ok(*caller);
        }
        let caller = bearer_token(&parts.headers).and_then(|t| {
            if state.admin.verify(t) {
                Some(Caller::Operator)
            } else {
                state.switch.authenticate(t).map(Caller::Participant)
            }
        });
        caller.map(FpsCaller).ok_or_else(|| {
            let mut response = Problem::new(ErrorCode::FpsUnauthorized).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bauhinia-fps\""),
            );
            response
        })
    }
}

fn parse_code(text: &str) -> Result<ParticipantCode, Problem> {
    ParticipantCode::parse(text).ok_or_else(|| {
        Problem::new(ErrorCode::FpsParticipantNotFound)
            .detail("a participant code has 3 digits, such as 004")
    })
}

/// A participant in the directory.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDoc {
    /// The 3-digit participant code.
    pub code: String,
    pub name_en: String,
    pub name_zh_hant: String,
    pub name_zh_hans: String,
    /// `bank`, `digital_bank` or `svf` (stored-value facility).
    pub kind: String,
    /// `true` unless suspended (defaults to `true` when registering).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl From<&Participant> for ParticipantDoc {
    fn from(p: &Participant) -> ParticipantDoc {
        ParticipantDoc {
            code: p.code.as_str(),
            name_en: p.name_en.clone(),
            name_zh_hant: p.name_zh_hant.clone(),
            name_zh_hans: p.name_zh_hans.clone(),
            kind: p.kind.as_str().to_owned(),
            active: p.active,
        }
    }
}

/// The FPS participants: banks and stored-value facilities.
#[utoipa::path(get, path = "/api/v1/fps/participants", tag = TAG,
    responses((status = 200, body = [ParticipantDoc])))]
async fn list_participants(State(state): State<FpsState>) -> Json<Vec<ParticipantDoc>> {
    Json(
        state
            .switch
            .participants()
            .iter()
            .map(ParticipantDoc::from)
            .collect(),
    )
}

/// Registers a participant and opens its settlement accounts (HKD and CNY). Operator only.
#[utoipa::path(post, path = "/api/v1/fps/participants", tag = TAG,
    request_body = ParticipantDoc,
    security(("admin_token" = [])),
    responses((status = 201, body = ParticipantDoc),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn register_participant(
    State(state): State<FpsState>,
    _admin: Admin,
    ApiJson(doc): ApiJson<ParticipantDoc>,
) -> Result<(StatusCode, Json<ParticipantDoc>), Problem> {
    let mut errors = Vec::new();
    let code = ParticipantCode::parse(&doc.code);
    if code.is_none() {
        errors.push(FieldError::new("/code", "must be 3 digits, such as 004"));
    }
    let kind = ParticipantKind::parse(&doc.kind);
    if kind.is_none() {
        errors.push(FieldError::new(
            "/kind",
            "must be bank, digital_bank or svf",
        ));
    }
    for (field, value) in [
        ("name_en", &doc.name_en),
        ("name_zh_hant", &doc.name_zh_hant),
        ("name_zh_hans", &doc.name_zh_hans),
    ] {
        let n = value.trim().chars().count();
        if n == 0 || n > 140 {
            errors.push(FieldError::new(
                format!("/{field}"),
                "must be 1 to 140 characters",
            ));
        }
    }
    let (Some(code), Some(kind), true) = (code, kind, errors.is_empty()) else {
        return Err(Problem::new(ErrorCode::FpsParticipantInvalid).errors(errors));
    };
    let participant = Participant {
        code,
        name_en: doc.name_en.trim().to_owned(),
        name_zh_hant: doc.name_zh_hant.trim().to_owned(),
        name_zh_hans: doc.name_zh_hans.trim().to_owned(),
        kind,
        active: doc.active,
    };
    state.switch.register(participant.clone(), "admin").await?;
    Ok((
        StatusCode::CREATED,
        Json(ParticipantDoc::from(&participant)),
    ))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for (e.g. the participant's system that uses it).
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Shown once; Bauhinia keeps only its SHA-256.
    pub token: String,
}

/// Issues an API token for a participant. Operator only.
#[utoipa::path(post, path = "/api/v1/fps/participants/{code}/tokens", tag = TAG,
    params(("code" = String, Path, description = "The 3-digit participant code")),
    request_body = TokenRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = TokenResponse),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn issue_token(
    State(state): State<FpsState>,
    _admin: Admin,
    Path(code): Path<String>,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), Problem> {
    let code = parse_code(&code)?;
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(
            Problem::new(ErrorCode::FpsParticipantInvalid).errors(vec![FieldError::new(
                "/label",
                "must be 1 to 100 characters",
            )]),
        );
    }
    let token = state.switch.issue_token(code, label, "admin").await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// A settlement account's position in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Position {
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Posted balance (decimal).
    pub balance: String,
    /// Reserved by pending outgoing transfers.
    pub pending_debits: String,
    /// Reserved by pending incoming transfers.
    pub pending_credits: String,
    /// What can still be paid out: balance less pending debits.
    pub available: String,
    /// How far below zero the account may go.
    pub debit_cap: String,
}

/// A participant's settlement positions, as of the last committed batch. The participant
/// itself or the operator.
#[utoipa::path(get, path = "/api/v1/fps/participants/{code}/positions", tag = TAG,
    params(("code" = String, Path, description = "The 3-digit participant code")),
    security(("fps_token" = [])),
    responses((status = 200, body = [Position]),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn positions(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(code): Path<String>,
) -> Result<Json<Vec<Position>>, Problem> {
    let code = parse_code(&code)?;
    if let Caller::Participant(own) = caller {
        if own != code {
            return Err(Problem::new(ErrorCode::FpsForbidden)
                .detail("a participant sees only its own positions"));
        }
    }
    if state.switch.participant(code).is_none() {
        return Err(Problem::new(ErrorCode::FpsParticipantNotFound));
    }
    let to_i64 = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(Json(
        state
            .switch
            .positions(code)
            .await?
            .iter()
            .map(|a| {
                let (c, t) = (a.currency, a.totals);
                let text = |minor: i64| Money::from_minor(minor, c).to_decimal_string();
                Position {
                    currency: c,
                    balance: text(to_i64(t.balance())),
                    pending_debits: text(t.debits_pending),
                    pending_credits: text(t.credits_pending),
                    available: text(to_i64(t.available())),
                    debit_cap: text(a.debit_cap.unwrap_or(0)),
                }
            })
            .collect(),
    ))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// RTGS → the participant's settlement account.
    Fund,
    /// The participant's settlement account → RTGS.
    Defund,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementRequest {
    /// The operation's id (a UUID): a retry with the same id and body is answered once.
    pub id: String,
    pub participant: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// Decimal, e.g. `1000000.00`.
    pub amount: String,
    pub direction: Direction,
}

/// Funds or defunds a participant's settlement account from the RTGS side. Operator only;
/// audited.
#[utoipa::path(post, path = "/api/v1/fps/settlement", tag = TAG,
    request_body = SettlementRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = TransferResult), (status = 200, body = TransferResult),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn settlement(
    State(state): State<FpsState>,
    _admin: Admin,
    ApiJson(request): ApiJson<SettlementRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    let id = parse_id(&request.id).filter(|id| *id != 0);
    if id.is_none() {
        errors.push(FieldError::new("/id", "must be a non-nil UUID"));
    }
    let code = ParticipantCode::parse(&request.participant);
    if code.is_none() {
        errors.push(FieldError::new(
            "/participant",
            "must be a 3-digit participant code",
        ));
    }
    let amount = match Money::parse_decimal(&request.amount, request.currency) {
        Ok(m) if m.minor > 0 => Some(m.minor),
        Ok(_) => {
            errors.push(FieldError::new("/amount", "must be more than zero"));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("/amount", e.to_string()));
            None
        }
    };
    let (Some(id), Some(code), Some(amount)) = (id, code, amount) else {
        return Err(Problem::new(ErrorCode::FpsTransferInvalid).errors(errors));
    };
    let direction = match request.direction {
        Direction::Fund => Settlement::Fund,
        Direction::Defund => Settlement::Defund,
    };
    let outcome = state
        .switch
        .settle(
            id,
            code,
            Money::from_minor(amount, request.currency),
            direction,
            "admin",
        )
        .await?;
    single_response(&request.id, outcome)
}

/// The problem for transfers the switch would not admit, each named by `pointer(index, field)`.
pub(crate) fn inadmissible(
    list: &[Inadmissible],
    pointer: impl Fn(usize, &str) -> String,
) -> Problem {
    Problem::new(ErrorCode::FpsTransferInvalid).errors(
        list.iter()
            .map(|i| FieldError::new(pointer(i.index(), i.field()), i.detail()))
            .collect(),
    )
}

async fn submit_one(
    state: &FpsState,
    transfer: Transfer,
    caller: Caller,
) -> Result<Outcome, Problem> {
    let outcomes = state
        .switch
        .submit(vec![transfer], caller)
        .await
        .map_err(|e| match e {
            SwitchError::Inadmissible(list) => inadmissible(&list, |_, field| format!("/{field}")),
            other => other.into(),
        })?;
    outcomes
        .into_iter()
        .next()
        .ok_or_else(|| Problem::internal(&"the ledger gave no answer"))
}

fn single_response(id: &str, outcome: Outcome) -> Result<Response, Problem> {
    match outcome {
        Outcome::IdConflict => Err(
            Problem::new(ErrorCode::FpsTransferIdConflict).detail(format!(
                "transfer {id} was already used for a different request"
            )),
        ),
        Outcome::Refused(r) | Outcome::Exists(Err(r)) => {
            Err(Problem::new(ErrorCode::FpsTransferRefused)
                .reason(r.code())
                .detail(r.text()))
        }
        Outcome::Created { .. } => Ok((
            StatusCode::CREATED,
            Json(TransferResult::from_outcome(id, outcome)),
        )
            .into_response()),
        Outcome::Exists(Ok(_)) => Ok((
            StatusCode::OK,
            Json(TransferResult::from_outcome(id, outcome)),
        )
            .into_response()),
    }
}

/// Makes one transfer, at once (real-time gross settlement), or as a two-phase step. 201 when
/// made now; 200 with the original answer when the id was answered before; 422
/// `fps.transfer_refused` with `reason` (e.g. `exceeds_debit_cap`) when refused.
#[utoipa::path(post, path = "/api/v1/fps/transfers", tag = TAG,
    request_body = TransferRequest,
    security(("fps_token" = [])),
    responses((status = 201, body = TransferResult), (status = 200, body = TransferResult),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_transfer(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Response, Problem> {
    let mut errors = Vec::new();
    let Some(transfer) = request.to_transfer("", &mut errors) else {
        return Err(Problem::new(ErrorCode::FpsTransferInvalid).errors(errors));
    };
    let outcome = submit_one(&state, transfer, caller).await?;
    single_response(&request.id, outcome)
}

/// Up to 8,189 transfers in one request, answered in order; `linked` chains succeed or fail
/// together. A request with any invalid transfer is refused whole (422, every fault named)
/// and nothing is recorded.
#[utoipa::path(post, path = "/api/v1/fps/transfers/batch", tag = TAG,
    request_body = BatchRequest,
    security(("fps_token" = [])),
    responses((status = 200, body = BatchResponse),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn create_batch(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    ApiJson(request): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, Problem> {
    if request.transfers.is_empty() || request.transfers.len() > BATCH_MAX {
        return Err(
            Problem::new(ErrorCode::FpsTransferInvalid).errors(vec![FieldError::new(
                "/transfers",
                format!("must hold 1 to {BATCH_MAX} transfers"),
            )]),
        );
    }
    let mut errors = Vec::new();
    let mut transfers = Vec::with_capacity(request.transfers.len());
    for (i, t) in request.transfers.iter().enumerate() {
        if let Some(transfer) = t.to_transfer(&format!("/transfers/{i}"), &mut errors) {
            transfers.push(transfer);
        }
        if errors.len() >= 100 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(Problem::new(ErrorCode::FpsTransferInvalid).errors(errors));
    }
    let outcomes = state
        .switch
        .submit(transfers, caller)
        .await
        .map_err(|e| match e {
            SwitchError::Inadmissible(list) => {
                inadmissible(&list, |i, field| format!("/transfers/{i}/{field}"))
            }
            other => other.into(),
        })?;
    Ok(Json(BatchResponse {
        results: request
            .transfers
            .iter()
            .zip(outcomes)
            .map(|(t, o)| TransferResult::from_outcome(&t.id, o))
            .collect(),
    }))
}

/// One transfer as recorded (accepted or refused). Only the participants it names, or the
/// operator.
#[utoipa::path(get, path = "/api/v1/fps/transfers/{id}", tag = TAG,
    params(("id" = String, Path, description = "The transfer's UUID")),
    security(("fps_token" = [])),
    responses((status = 200, body = TransferView),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_transfer(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, Problem> {
    let not_found = || Problem::new(ErrorCode::FpsTransferNotFound);
    let id = parse_id(&id).ok_or_else(not_found)?;
    let recorded = state.switch.transfer(id).await?.ok_or_else(not_found)?;
    let view = TransferView::from_recorded(&recorded);
    if let Caller::Participant(own) = caller {
        let own = own.as_str();
        // Someone else's transfer does not exist, as far as this participant can tell.
        if view.debtor.as_deref() != Some(&own) && view.creditor.as_deref() != Some(&own) {
            return Err(not_found());
        }
    }
    Ok(Json(view))
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// `HKD` (default) or `CNY`.
    #[param(value_type = Option<String>)]
    pub currency: Option<Currency>,
    /// Transfers older than this cursor (from `next`).
    pub before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPage {
    pub transfers: Vec<TransferView>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

/// A participant's accepted transfers in one currency, newest first. The participant itself
/// or the operator.
#[utoipa::path(get, path = "/api/v1/fps/participants/{code}/transfers", tag = TAG,
    params(("code" = String, Path, description = "The 3-digit participant code"), HistoryQuery),
    security(("fps_token" = [])),
    responses((status = 200, body = HistoryPage),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn participant_transfers(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path(code): Path<String>,
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, Problem> {
    let axum::extract::Query(query) =
        query.map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))?;
    let code = parse_code(&code)?;
    if let Caller::Participant(own) = caller {
        if own != code {
            return Err(Problem::new(ErrorCode::FpsForbidden)
                .detail("a participant sees only its own transfers"));
        }
    }
    if state.switch.participant(code).is_none() {
        return Err(Problem::new(ErrorCode::FpsParticipantNotFound));
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let account = code.settlement_account(query.currency.unwrap_or(Currency::Hkd));
    let rows = state.switch.history(account, query.before, limit).await?;
    let next = if i64::try_from(rows.len()).unwrap_or(0) == limit {
        rows.last().map(|(seq, _)| *seq)
    } else {
        None
    };
    Ok(Json(HistoryPage {
        transfers: rows
            .iter()
            .map(|(_, r)| TransferView::from_recorded(r))
            .collect(),
        next,
    }))
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementQuery {
    /// `HKD` (default) or `CNY`.
    #[param(value_type = Option<String>)]
    pub currency: Option<Currency>,
}

/// A participant's end-of-day statement (camt.053.001.08) for one Hong Kong calendar day: the
/// opening and closing balances and every settled movement. Today's is the day so far. The
/// participant itself or the operator.
#[utoipa::path(get, path = "/api/v1/fps/participants/{code}/statements/{date}", tag = TAG,
    params(("code" = String, Path, description = "The 3-digit participant code"),
        ("date" = String, Path, description = "The day, YYYY-MM-DD (Hong Kong time)"), StatementQuery),
    security(("fps_token" = [])),
    responses((status = 200, description = "A camt.053.001.08 statement", body = String, content_type = "application/xml"),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn statement(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    Path((code, date)): Path<(String, String)>,
    query: Result<axum::extract::Query<StatementQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let axum::extract::Query(query) =
        query.map_err(|e| Problem::new(ErrorCode::InvalidQuery).detail(e.body_text()))?;
    let code = parse_code(&code)?;
    if let Caller::Participant(own) = caller {
        if own != code {
            return Err(Problem::new(ErrorCode::FpsForbidden)
                .detail("a participant sees only its own statements"));
        }
    }
    let participant = state
        .switch
        .participant(code)
        .ok_or_else(|| Problem::new(ErrorCode::FpsParticipantNotFound))?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(&date, &format).map_err(|_| {
        Problem::new(ErrorCode::InvalidQuery).detail("the date is written YYYY-MM-DD")
    })?;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(crate::statement::hong_kong())
        .date();
    if day > today {
        return Err(Problem::new(ErrorCode::InvalidQuery)
            .detail("a statement covers a day that has begun in Hong Kong"));
    }
    let currency = query.currency.unwrap_or(Currency::Hkd);
    let statement = crate::statement::end_of_day(state.switch.db(), &participant, currency, day)
        .await
        .map_err(|e| match e {
            crate::statement::StatementError::TooLarge => {
                Problem::new(ErrorCode::FpsStatementTooLarge).detail(e.to_string())
            }
            crate::statement::StatementError::Switch(s) => Problem::from(s),
            other => Problem::internal(&other),
        })?;
    let xml = crate::iso20022::Message::Statement(statement).to_xml();
    let mut response = xml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    Ok(response)
}
