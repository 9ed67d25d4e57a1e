//! The flows in ISO 20022: a participant returns transfers with a pacs.004 and collects direct
//! debits with a pacs.003, and receives a pacs.002 — one status per transaction (`ACSC` settled,
//! or `RJCT` with an ISO reason) — after the outcomes are written. The same service and rules as
//! the JSON API; a transaction's id is a hash of the sender and its `RtrId` or `TxId`, so a
//! resent message is answered, never settled twice.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bauhinia_core::{ErrorCode, Problem};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::domain::{ReturnKind, REFERENCE_CHARS_MAX};
use super::http::FlowCaller;
use super::service::hong_kong_date;
use super::wire::{NewDebit, NewReturn};
use super::FlowError;
use crate::http::FpsState;
use crate::iso20022::{
    self, reason, DirectDebitTransaction, Max35Text, ReturnTransaction, SettlementHeader,
    TransactionStatus,
};
use crate::iso_http::{bad_xml, require_xml, status_line, status_report_of, xml_response};
use crate::ledger::Id;
use crate::switch::ParticipantCode;
use crate::wire::parse_id;

const TAG: &str = "fps";
/// The most transactions one pacs.004 or pacs.003 carries here: each is settled on its own.
pub const FLOW_TRANSACTIONS_MAX: usize = 1_000;

pub fn router(state: FpsState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(payment_return))
        .routes(routes!(direct_debit))
        .layer(axum::extract::DefaultBodyLimit::max(
            iso20022::INPUT_BYTES_MAX,
        ))
        .with_state(state)
}

/// A 128-bit id for a sender's message reference (`RtrId`, `TxId`) in one kind of message.
fn message_id(kind: &str, sender: ParticipantCode, reference: &str) -> Id {
    let digest = Sha256::new()
        .chain_update(b"bauhinia.fps.")
        .chain_update(kind.as_bytes())
        .chain_update(b"\0")
        .chain_update(sender.as_str().as_bytes())
        .chain_update(b"\0")
        .chain_update(reference.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    u128::from_be_bytes(bytes).max(1)
}

/// A transaction's answer: settled, or refused with an ISO reason and the stable code.
type Line = Result<(), (&'static str, String)>;

/// How a refusal of the service reads in a pacs.002; an outage fails the whole message.
fn refusal(error: FlowError) -> Result<Line, Problem> {
    let iso = match &error {
        FlowError::LimitExceeded(_) | FlowError::ExceedsOriginal { .. } => reason::AM02,
        FlowError::Conflict(_) | FlowError::TransferIdConflict => reason::DUPL,
        FlowError::NotFound(ErrorCode::FpsMandateNotFound)
        | FlowError::State(ErrorCode::FpsMandateState, _) => reason::MD01,
        FlowError::NotFound(_)
        | FlowError::Invalid(..)
        | FlowError::Forbidden(_)
        | FlowError::State(..)
        | FlowError::Refused(..) => reason::NARR,
        FlowError::Switch(_) | FlowError::Store(_) | FlowError::Crypto(_) => {
            return Err(error.into())
        }
    };
    // The stable code, then what it is about, within AddtlInf's 105 characters.
    let problem = Problem::from(error);
    let about = problem.detail.clone().or_else(|| {
        problem
            .errors
            .first()
            .map(|e| format!("{} {}", e.field(), e.detail))
    });
    let text = match about {
        Some(about) => format!("{}: {about}", problem.code.code()),
        None => problem.code.code().to_owned(),
    };
    Ok(Err((iso, text.chars().take(105).collect())))
}

/// A settlement's written status as a line: `settled`, or the ledger's reason.
fn settled_line(status: &str, reason: Option<&str>) -> Line {
    match (status, reason) {
        ("settled", _) => Ok(()),
        (_, Some("exceeds_debit_cap")) => Err((reason::AM04, "exceeds_debit_cap".into())),
        (_, why) => Err((reason::NARR, why.unwrap_or("refused").to_owned())),
    }
}

/// The original of a returned transaction: its UUID in `OrgnlTxId` (a JSON transfer; the 32 hex
/// digits without hyphens fit `Max35Text`), or the
/// `TxId` of a pacs.008 with `InstdAgt` naming its debtor agent (to whom it goes back).
fn original_of(tx: &ReturnTransaction) -> Option<Id> {
    let original = tx.original_transaction_id.as_ref()?.as_str();
    if let Some(id) = parse_id(original) {
        return Some(id);
    }
    let debtor = ParticipantCode::parse(tx.instructed_agent.as_ref()?.participant.as_str())?;
    Some(crate::iso_http::transaction_id(debtor, original))
}

async fn return_one(
    state: &FpsState,
    caller: ParticipantCode,
    tx: &ReturnTransaction,
) -> Result<Line, Problem> {
    let Some(return_id) = &tx.return_id else {
        return Ok(Err((reason::NARR, "RtrId is required".into())));
    };
    let Some(original) = original_of(tx) else {
        return Ok(Err((
            reason::NARR,
            "OrgnlTxId must be the original transfer's UUID, or a pacs.008 TxId with InstdAgt naming its debtor agent".into(),
        )));
    };
    let money = tx.returned_amount.money();
    let new = NewReturn {
        id: message_id("pacs004", caller, return_id.as_str()),
        kind: ReturnKind::Return,
        amount: money.to_decimal_string(),
        currency: Some(money.currency),
        reason: tx
            .reasons
            .first()
            .and_then(|r| r.reason.as_ref())
            .map(|r| r.value().to_owned()),
        reference: String::new(),
    };
    if let Err(why) = super::domain::check_reason(ReturnKind::Return, new.reason.as_deref()) {
        return Ok(Err((reason::NARR, format!("RtrRsnInf: {why}"))));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match state
        .flows
        .return_transfer(caller, original, new, now)
        .await
    {
        Ok(answer) => Ok(settled_line(
            &answer.view.status,
            answer.view.refusal.as_deref(),
        )),
        Err(e) => refusal(e),
    }
}

/// Returns transfers (pacs.004.001.09, XML) as their creditor's participant: each `TxInf` with
/// its `RtrId`, the original (`OrgnlTxId`: the transfer's UUID, or a pacs.008 `TxId` with
/// `InstdAgt` naming its debtor agent), the amount and an ISO return reason. Answers a
/// pacs.002.001.10: `ACSC` per settled return, `RJCT` with a reason (`AM02` more than remains of
/// the original, `AM04` insufficient funds, `DUPL` an `RtrId` reused for another return, `NARR`
/// otherwise, with the stable code).
#[utoipa::path(post, path = "/api/v1/fps/iso20022/pacs.004", tag = TAG,
    request_body(content = String, content_type = "application/xml", description = "A pacs.004.001.09 document"),
    security(("fps_token" = [])),
    responses((status = 200, description = "A pacs.002.001.10 status report", body = String, content_type = "application/xml"),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn payment_return(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require_xml(&headers, "pacs.004")?;
    let message = iso20022::parse_payment_return(&body).map_err(|e| bad_xml(&e))?;
    let transactions = message.transactions.as_slice();
    too_many(transactions.len())?;
    let mut lines = Vec::with_capacity(transactions.len());
    for tx in transactions {
        let line = return_one(&state, caller, tx).await?;
        let ids = (
            None,
            tx.original_end_to_end_id.clone(),
            tx.return_id.clone(),
        );
        lines.push(to_status(ids, &line));
    }
    Ok(answer(&message.header, "pacs.004.001.09", lines))
}

/// The original (instruction, end-to-end, transaction) ids a pacs.002 line names.
type OriginalIds = (Option<Max35Text>, Option<Max35Text>, Option<Max35Text>);

/// A transaction's pacs.002 line: its original ids and its answer.
fn to_status(
    (instruction, end_to_end, transaction): OriginalIds,
    line: &Line,
) -> TransactionStatus {
    let result = line
        .as_ref()
        .map(|()| None)
        .map_err(|(code, why)| (*code, why.as_str()));
    status_line(instruction, end_to_end, transaction, result)
}

fn answer(header: &SettlementHeader, name: &str, lines: Vec<TransactionStatus>) -> Response {
    xml_response(status_report_of(header, name, lines))
}

fn too_many(n: usize) -> Result<(), Problem> {
    if n > FLOW_TRANSACTIONS_MAX {
        return Err(Problem::new(ErrorCode::FpsIso20022Invalid)
            .reason("too_many_transactions")
            .detail(format!(
                "a message carries at most {FLOW_TRANSACTIONS_MAX} transactions here"
            )));
    }
    Ok(())
}

async fn debit_one(
    state: &FpsState,
    caller: ParticipantCode,
    tx: &DirectDebitTransaction,
) -> Result<Line, Problem> {
    let Some(mandate) = parse_id(tx.mandate_id.as_str()) else {
        return Ok(Err((
            reason::MD01,
            "MndtId must be the mandate's UUID (32 hex digits)".into(),
        )));
    };
    let mandate = crate::wire::format_id(mandate);
    let view = match state.flows.mandate(caller, &mandate).await {
        Ok(view) => view,
        Err(e) => return refusal(e),
    };
    if view.debtor != tx.debtor_agent.participant.as_str() {
        return Ok(Err((
            reason::MD01,
            "DbtrAgt is not the mandate's debtor".into(),
        )));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let new = NewDebit {
        id: message_id("pacs003", caller, tx.payment_id.transaction_id.as_str()),
        amount: tx.amount.money(),
        reference: tx
            .remittance
            .as_ref()
            .and_then(|r| r.unstructured.first())
            .map(|t| t.as_str().chars().take(REFERENCE_CHARS_MAX).collect())
            .unwrap_or_default(),
        collection_date: Some(
            tx.settlement_date
                .map_or_else(|| hong_kong_date(now), |d| d.0),
        ),
    };
    match state.flows.debit(caller, &mandate, new, now).await {
        Ok(answer) => Ok(settled_line(
            &answer.view.status,
            answer.view.reason.as_deref(),
        )),
        Err(e) => refusal(e),
    }
}

/// Collects direct debits (pacs.003.001.08, XML) as the creditor agent: each `DrctDbtTxInf`
/// names the mandate (`MndtId`: its UUID as 32 hex digits, without hyphens), the debtor agent (the mandate's debtor), the amount
/// and the settlement date (the collection date). Answers a pacs.002.001.10: `ACSC` per settled
/// debit, `RJCT` with a reason (`MD01` no such active mandate, `AM02` over a limit, `AM04`
/// insufficient funds, `DUPL` a `TxId` reused, `NARR` otherwise). A participant collects only as
/// the creditor agent (403).
#[utoipa::path(post, path = "/api/v1/fps/iso20022/pacs.003", tag = TAG,
    request_body(content = String, content_type = "application/xml", description = "A pacs.003.001.08 document"),
    security(("fps_token" = [])),
    responses((status = 200, description = "A pacs.002.001.10 status report", body = String, content_type = "application/xml"),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn direct_debit(
    State(state): State<FpsState>,
    FlowCaller(caller): FlowCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require_xml(&headers, "pacs.003")?;
    let message = iso20022::parse_direct_debit(&body).map_err(|e| bad_xml(&e))?;
    let transactions = message.transactions.as_slice();
    too_many(transactions.len())?;
    if let Some(tx) = transactions
        .iter()
        .find(|tx| tx.creditor_agent.participant.as_str() != caller.as_str())
    {
        return Err(Problem::new(ErrorCode::FpsForbidden).detail(format!(
            "transaction {} names creditor agent {}; a participant collects only as itself",
            tx.payment_id.transaction_id.as_str(),
            tx.creditor_agent.participant.as_str()
        )));
    }
    let mut lines = Vec::with_capacity(transactions.len());
    for tx in transactions {
        let line = debit_one(&state, caller, tx).await?;
        let id = &tx.payment_id;
        let ids = (
            id.instruction_id.clone(),
            Some(id.end_to_end_id.clone()),
            Some(id.transaction_id.clone()),
        );
        lines.push(to_status(ids, &line));
    }
    Ok(answer(&message.header, "pacs.003.001.08", lines))
}
