//! The operator's API for the hosted banks, under `/api/v1/banks`: which banks are hosted, an
//! account's balance, and cash deposits at the counter (the administrator token). Customers
//! use the portal.

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
use crate::service::{BankError, Banks};

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
    AccountNumber::parse(text).ok_or_else(|| {
        Problem::new(ErrorCode::BankInvalid).errors(vec![FieldError::new(
            "/number",
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
    let mut errors = Vec::new();
    let id = uuid::Uuid::try_parse(&request.id).ok();
    if id.is_none() {
        errors.push(FieldError::new("/id", "must be a UUID"));
    }
    let amount = Money::parse_decimal(&request.amount, request.currency)
        .ok()
        .filter(|m| m.minor > 0);
    if amount.is_none() {
        errors.push(FieldError::new(
            "/amount",
            "must be a positive decimal amount with at most two decimals",
        ));
    }
    let (Some(id), Some(amount)) = (id, amount) else {
        return Err(Problem::new(ErrorCode::BankInvalid).errors(errors));
    };
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
