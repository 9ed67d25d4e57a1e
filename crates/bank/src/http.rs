//! The operator's API for the hosted banks, under `/api/v1/banks`: which banks are hosted, an
//! account's balance, cash deposits at the counter, and — as a creditor's bank — eDDA mandates
//! proposed to a customer of another bank and collections under them (the administrator
//! token). Customers use the portal.

use std::sync::Arc;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::Json;
use bauhinia_core::admin::{Admin, AdminToken};
use bauhinia_core::extract::ApiJson;
use bauhinia_core::{Currency, ErrorCode, FieldError, Money, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::AccountNumber;
use crate::service::{BankError, Banks, Collection, MandateOrder};

const TAG: &str = "banks";

#[derive(Debug, Clone)]
pub struct BanksState {
    pub banks: Arc<Banks>,
    pub admin: Arc<AdminToken>,
}

impl FromRef<BanksState> for Arc<AdminToken> {
    fn from_ref(state: &BanksState) -> Arc<AdminToken> {
        Arc::clone(&state.admin)
    }
}

pub fn router(state: BanksState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_banks))
        .routes(routes!(get_account))
        .routes(routes!(deposit))
        .routes(routes!(propose_mandate))
        .routes(routes!(collect))
        .with_state(state)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankDoc {
    /// The FPS participant code.
    pub code: String,
    pub name_en: String,
}

/// The banks and stored-value facilities whose books this installation keeps.
#[utoipa::path(get, path = "/api/v1/banks", tag = TAG,
    responses((status = 200, body = Vec<BankDoc>)))]
async fn list_banks(State(state): State<BanksState>) -> Result<Json<Vec<BankDoc>>, Problem> {
    Ok(Json(
        state
            .banks
            .hosted()
            .await?
            .into_iter()
            .map(|(code, name_en)| BankDoc {
                code: code.as_str(),
                name_en,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDoc {
    pub number: String,
    pub bank: String,
    pub kind: String,
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Posted balance, decimal.
    pub balance: String,
    /// Balance less holds, decimal.
    pub available: String,
}

fn account_number(text: &str) -> Result<AccountNumber, Problem> {
    account_at("/number", text)
}

/// An account number at `pointer`, or the fault named there.
fn account_at(pointer: &str, text: &str) -> Result<AccountNumber, Problem> {
    AccountNumber::parse(text).ok_or_else(|| {
        Problem::new(ErrorCode::BankInvalid).errors(vec![FieldError::new(
            pointer,
            "must be a bank code and nine digits, such as 004-100000001",
        )])
    })
}

/// An account and its balances. Operator only.
#[utoipa::path(get, path = "/api/v1/banks/accounts/{number}", tag = TAG,
    params(("number" = String, Path, description = "The account number, e.g. 004-100000001")),
    security(("admin_token" = [])),
    responses((status = 200, body = AccountDoc),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn get_account(
    State(state): State<BanksState>,
    _admin: Admin,
    Path(number): Path<String>,
) -> Result<Json<AccountDoc>, Problem> {
    let number = account_number(&number)?;
    let owner = state
        .banks
        .store()
        .account(&number)
        .await
        .map_err(BankError::from)?
        .ok_or(BankError::AccountNotFound)?
        .owner;
    let view = state
        .banks
        .accounts_of(&owner)
        .await?
        .into_iter()
        .find(|a| a.number == number)
        .ok_or(BankError::AccountNotFound)?;
    Ok(Json(AccountDoc {
        number: view.number.to_string(),
        bank: view.bank.as_str(),
        kind: view.kind.as_str().to_owned(),
        currency: view.currency,
        balance: view.balance.to_decimal_string(),
        available: view.available.to_decimal_string(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositRequest {
    /// The deposit's id (a UUID): the same deposit sent twice is made once.
    pub id: String,
    /// Decimal, e.g. `1000.00`.
    pub amount: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepositDoc {
    pub id: String,
    /// `accepted` or `refused`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// A cash deposit at the counter: the bank's vault cash to the customer's account. Operator
/// only; idempotent by `id`.
#[utoipa::path(post, path = "/api/v1/banks/accounts/{number}/deposits", tag = TAG,
    params(("number" = String, Path, description = "The account number, e.g. 004-100000001")),
    request_body = DepositRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = DepositDoc),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn deposit(
    State(state): State<BanksState>,
    _admin: Admin,
    Path(number): Path<String>,
    ApiJson(request): ApiJson<DepositRequest>,
) -> Result<(StatusCode, Json<DepositDoc>), Problem> {
    let number = account_number(&number)?;
    let (id, amount) = id_and_amount(&request.id, ("/amount", &request.amount), request.currency)?;
    let outcome = state.banks.deposit(id, &number, amount, "admin").await?;
    match outcome.result() {
        Ok(_) => Ok((
            StatusCode::CREATED,
            Json(DepositDoc {
                id: request.id,
                status: "accepted",
                reason: None,
            }),
        )),
        Err(Some(refusal)) => Ok((
            StatusCode::CREATED,
            Json(DepositDoc {
                id: request.id,
                status: "refused",
                reason: Some(refusal.code()),
            }),
        )),
        Err(None) => Err(BankError::IdConflict.into()),
    }
}

/// An idempotency id (a UUID) and a positive amount, each fault named.
fn id_and_amount(
    id: &str,
    (pointer, amount): (&str, &str),
    currency: Currency,
) -> Result<(uuid::Uuid, Money), Problem> {
    let mut errors = Vec::new();
    let id = uuid::Uuid::try_parse(id).ok();
    if id.is_none() {
        errors.push(FieldError::new("/id", "must be a UUID"));
    }
    let amount = Money::parse_decimal(amount, currency)
        .ok()
        .filter(|m| m.minor > 0);
    if amount.is_none() {
        errors.push(FieldError::new(
            pointer,
            "must be a positive decimal amount with at most two decimals",
        ));
    }
    match (id, amount) {
        (Some(id), Some(amount)) => Ok((id, amount)),
        _ => Err(Problem::new(ErrorCode::BankInvalid).errors(errors)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionRequest {
    /// The collection's id (a UUID): the same collection sent twice is made once.
    pub id: String,
    /// Decimal, e.g. `120.00`; at most the mandate's per-debit limit.
    pub amount: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// Remittance information (at most 140 characters).
    #[serde(default)]
    pub reference: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionDoc {
    pub id: String,
    /// `settled`, `failed` or `initiated` (to be finished).
    pub state: &'static str,
    /// Why it failed (a stable code, e.g. `insufficient_funds`, `mandate_limit_exceeded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The switch's transfer (and direct debit) id.
    pub fps_transfer: String,
    pub amount: String,
    pub currency: &'static str,
}

/// A collection under an eDDA mandate, made by the creditor's bank: the debtor's bank holds
/// the amount on the debtor's account, the direct debit settles at the switch within the
/// mandate's limits, the hold is posted and the creditor's account credited; both customers'
/// histories show it. Operator only; idempotent by `id`. A refusal (funds, the period's limit)
/// is an answer: `state` is `failed` with the `reason`.
#[utoipa::path(post, path = "/api/v1/banks/mandates/{id}/collections", tag = TAG,
    params(("id" = String, Path, description = "The mandate's id (a UUID)")),
    request_body = CollectionRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = CollectionDoc),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn collect(
    State(state): State<BanksState>,
    _admin: Admin,
    Path(mandate): Path<String>,
    ApiJson(request): ApiJson<CollectionRequest>,
) -> Result<(StatusCode, Json<CollectionDoc>), Problem> {
    let (id, amount) = id_and_amount(&request.id, ("/amount", &request.amount), request.currency)?;
    let collection = Collection {
        id,
        amount,
        reference: request.reference,
    };
    let payment = state.banks.collect(&mandate, collection, "admin").await?;
    Ok((
        StatusCode::CREATED,
        Json(CollectionDoc {
            id: payment.id,
            state: payment.state.as_str(),
            reason: payment.reason,
            fps_transfer: payment.fps_transfer,
            amount: payment.amount.to_decimal_string(),
            currency: payment.amount.currency.code(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    /// The mandate's id (a UUID): the same proposal sent twice is made once.
    pub id: String,
    /// The debtor's account (a customer of another hosted bank), e.g. `004-100000001`.
    pub debtor_account: String,
    /// The creditor's (merchant's) account, e.g. `387-100000001`.
    pub creditor_account: String,
    #[schema(value_type = String, example = "HKD")]
    pub currency: Currency,
    /// The most one debit may take (decimal).
    pub per_debit_limit: String,
    /// The most all debits in one Hong Kong calendar month may take together (decimal).
    pub monthly_limit: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MandateDoc {
    pub id: String,
    /// `pending` until the debtor confirms it in the portal; then `active`.
    pub status: &'static str,
    pub currency: &'static str,
    pub per_debit_limit: String,
    pub monthly_limit: String,
}

/// The creditor's bank proposes a simplified eDDA mandate on a customer's account at another
/// hosted bank: pending until the customer confirms it (or rejects it) on `/pay/mandates`.
/// Operator only; idempotent by `id`.
#[utoipa::path(post, path = "/api/v1/banks/mandates", tag = TAG,
    request_body = ProposalRequest,
    security(("admin_token" = [])),
    responses((status = 201, body = MandateDoc),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 404, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 409, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn propose_mandate(
    State(state): State<BanksState>,
    _admin: Admin,
    ApiJson(request): ApiJson<ProposalRequest>,
) -> Result<(StatusCode, Json<MandateDoc>), Problem> {
    let (id, per_debit) = id_and_amount(
        &request.id,
        ("/per_debit_limit", &request.per_debit_limit),
        request.currency,
    )?;
    let monthly = Money::parse_decimal(&request.monthly_limit, request.currency)
        .ok()
        .filter(|m| m.minor > 0)
        .ok_or_else(|| {
            Problem::new(ErrorCode::BankInvalid).errors(vec![FieldError::new(
                "/monthly_limit",
                "must be a positive decimal amount with at most two decimals",
            )])
        })?;
    let order = MandateOrder {
        id,
        debtor: account_at("/debtor_account", &request.debtor_account)?,
        creditor: account_at("/creditor_account", &request.creditor_account)?,
        per_debit,
        monthly,
    };
    let view = state.banks.propose_mandate(order, "admin").await?;
    Ok((
        StatusCode::CREATED,
        Json(MandateDoc {
            id: view.id,
            status: view.status.as_str(),
            currency: view.per_debit.currency.code(),
            per_debit_limit: view.per_debit.to_decimal_string(),
            monthly_limit: view.monthly.to_decimal_string(),
        }),
    ))
}
