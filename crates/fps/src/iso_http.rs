//! The ISO 20022 participant interface: a participant submits a pacs.008 credit transfer as XML
//! and receives a pacs.002 status report — one status per transaction (`ACSC` settled, or
//! `RJCT` with an ISO reason code) — after the ledger has committed. Same rules as the JSON
//! API: a participant pays only as the debtor agent, and a resent transaction (same debtor
//! agent and `TxId`) gets its original status, never a second settlement.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bauhinia_core::{ErrorCode, Problem};
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::{FpsCaller, FpsState};
use crate::iso20022::{
    self, reason, CreditTransfer, CreditTransferTransaction, IsoDateTime, Max105Text, Max35Text,
    OriginalGroupStatus, PaymentStatus, ReasonInfo, ReportHeader, SettlementHeader, StatusReport,
    TransactionStatus,
};
use crate::ledger::model::{Kind, Outcome, Refusal, REFERENCE_MAX};
use crate::ledger::Transfer;
use crate::switch::{Inadmissible, ParticipantCode, SwitchError};
use crate::wire::Purpose;

const TAG: &str = "fps";
const XML: &str = "application/xml";

pub fn router(state: FpsState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(credit_transfer))
        .layer(axum::extract::DefaultBodyLimit::max(
            iso20022::INPUT_BYTES_MAX,
        ))
        .with_state(state)
}

/// The ledger id of a pacs.008 transaction: the debtor agent and its `TxId` (unique per
/// sender, as ISO 20022 asks), hashed to 128 bits, so that a resent message is idempotent.
pub fn transaction_id(debtor: ParticipantCode, tx_id: &str) -> u128 {
    let digest = Sha256::new()
        .chain_update(b"bauhinia.fps.pacs008\0")
        .chain_update(debtor.as_str().as_bytes())
        .chain_update(b"\0")
        .chain_update(tx_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    u128::from_be_bytes(bytes).max(1)
}

/// A participant paying as another agent is forbidden outright; a suspended creditor agent is
/// named by its element path.
fn iso_inadmissible(transactions: &[CreditTransferTransaction], list: &[Inadmissible]) -> Problem {
    let not_own = list.iter().find_map(|i| match i {
        Inadmissible::NotOwnAccount { index } => transactions.get(*index),
        Inadmissible::CreditorSuspended { .. } => None,
    });
    if let Some(tx) = not_own {
        return Problem::new(ErrorCode::FpsForbidden).detail(format!(
            "transaction {} names debtor agent {}; a participant pays only as itself",
            tx.payment_id.transaction_id.as_str(),
            tx.debtor_agent.participant.as_str()
        ));
    }
    crate::http::inadmissible(list, |i, _| {
        format!("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[{}]/CdtrAgt", i + 1)
    })
}

/// The ISO external status reason for a ledger refusal.
pub fn reason_code(refusal: Option<Refusal>) -> &'static str {
    match refusal {
        Some(Refusal::ExceedsDebitCap) => reason::AM04,
        Some(Refusal::CreditAccountNotFound | Refusal::DebitAccountNotFound) => reason::AC01,
        None => reason::DUPL,
        Some(_) => reason::NARR,
    }
}

pub(crate) fn bad_xml(error: &iso20022::Iso20022Error) -> Problem {
    Problem::new(ErrorCode::FpsIso20022Invalid)
        .reason(error.kind())
        .detail(error.to_string())
}

fn tx_to_transfer(tx: &CreditTransferTransaction) -> Result<Transfer, Problem> {
    let parse = |code: &str| {
        ParticipantCode::parse(code)
            .ok_or_else(|| Problem::new(ErrorCode::FpsIso20022Invalid).detail("bad agent"))
    };
    let debtor = parse(tx.debtor_agent.participant.as_str())?;
    let creditor = parse(tx.creditor_agent.participant.as_str())?;
    let money = tx.amount.money();
    let reference: String = tx
        .remittance
        .as_ref()
        .and_then(|r| r.unstructured.first())
        .map(|t| t.as_str().chars().take(REFERENCE_MAX).collect())
        .unwrap_or_default();
    Ok(Transfer {
        id: transaction_id(debtor, tx.payment_id.transaction_id.as_str()),
        debit_account: debtor.settlement_account(money.currency),
        credit_account: creditor.settlement_account(money.currency),
        amount: money.minor,
        currency: money.currency,
        kind: Kind::Single,
        linked: false,
        code: Purpose::P2p.code(),
        user_data: 0,
        reference,
    })
}

fn iso_now(ns: i64) -> Option<IsoDateTime> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)).ok()?;
    Some(IsoDateTime {
        local: time::PrimitiveDateTime::new(t.date(), t.time()),
        offset: Some(time::UtcOffset::UTC),
    })
}

fn now_ns() -> i64 {
    let t = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// One transaction's line in a pacs.002: `ACSC` (settled at `accepted`, nanoseconds), or `RJCT`
/// with an ISO reason and, as additional information, the stable code of why.
pub(crate) fn status_line(
    instruction_id: Option<Max35Text>,
    end_to_end_id: Option<Max35Text>,
    transaction_id: Option<Max35Text>,
    result: Result<Option<i64>, (&'static str, &str)>,
) -> TransactionStatus {
    let (status, reasons, accepted) = match result {
        Ok(ts) => (
            PaymentStatus::AcceptedSettlementCompleted,
            Vec::new(),
            ts.and_then(iso_now),
        ),
        Err((code, why)) => {
            let mut info = ReasonInfo::code(code).unwrap_or(ReasonInfo {
                reason: None,
                additional_info: Vec::new(),
            });
            if let Ok(text) = Max105Text::new(why) {
                info.additional_info.push(text);
            }
            (PaymentStatus::Rejected, vec![info], None)
        }
    };
    TransactionStatus {
        status_id: None,
        original_group: None,
        original_instruction_id: instruction_id,
        original_end_to_end_id: end_to_end_id,
        original_transaction_id: transaction_id,
        status: Some(status),
        reasons,
        accepted,
        clearing_reference: None,
        instructing_agent: None,
        instructed_agent: None,
    }
}

/// The pacs.002 answering a message (its header and name, e.g. `pacs.008.001.08`) with one
/// line per transaction; the group is accepted, partially accepted or rejected accordingly.
pub(crate) fn status_report_of(
    original: &SettlementHeader,
    message_name: &str,
    transactions: Vec<TransactionStatus>,
) -> StatusReport {
    let now = now_ns();
    let created = iso_now(now).unwrap_or(original.created);
    let accepted = transactions
        .iter()
        .filter(|t| t.status == Some(PaymentStatus::AcceptedSettlementCompleted))
        .count();
    let group_status = if accepted == transactions.len() {
        PaymentStatus::AcceptedSettlementCompleted
    } else if accepted == 0 {
        PaymentStatus::Rejected
    } else {
        PaymentStatus::PartiallyAccepted
    };
    let message_id =
        Max35Text::new(format!("BAUHINIA-{now:x}")).unwrap_or_else(|_| original.message_id.clone());
    StatusReport {
        header: ReportHeader {
            message_id,
            created,
            instructing_agent: None,
            instructed_agent: None,
        },
        groups: vec![OriginalGroupStatus {
            message_id: original.message_id.clone(),
            message_name: Max35Text::new(message_name)
                .unwrap_or_else(|_| original.message_id.clone()),
            created: Some(original.created),
            number_of_transactions: u64::try_from(transactions.len()).ok(),
            status: Some(group_status),
            reasons: Vec::new(),
        }],
        transactions,
    }
}

/// The pacs.002 answering `message` with one outcome per transaction.
pub fn status_report(message: &CreditTransfer, outcomes: &[Outcome]) -> StatusReport {
    let transactions = message
        .transactions
        .as_slice()
        .iter()
        .zip(outcomes)
        .map(|(tx, outcome)| {
            let result = match outcome.result() {
                Ok(ts) => Ok(Some(ts)),
                Err(refusal) => Err((
                    reason_code(refusal),
                    refusal.map_or("id_conflict", Refusal::code),
                )),
            };
            status_line(
                tx.payment_id.instruction_id.clone(),
                Some(tx.payment_id.end_to_end_id.clone()),
                Some(tx.payment_id.transaction_id.clone()),
                result,
            )
        })
        .collect();
    status_report_of(&message.header, "pacs.008.001.08", transactions)
}

/// Refuses a body that is not sent as XML.
pub(crate) fn require_xml(headers: &HeaderMap, message: &str) -> Result<(), Problem> {
    let xml_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .is_some_and(|v| v.eq_ignore_ascii_case(XML) || v.eq_ignore_ascii_case("text/xml"));
    if xml_type {
        Ok(())
    } else {
        Err(
            Problem::new(ErrorCode::UnsupportedMediaType).detail(format!(
                "send the {message} document with `Content-Type: application/xml`"
            )),
        )
    }
}

/// A status report as the XML response.
pub(crate) fn xml_response(report: StatusReport) -> Response {
    let xml = iso20022::Message::StatusReport(report).to_xml();
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

/// Submits a pacs.008.001.08 credit transfer (XML); answers with a pacs.002.001.10 status
/// report once the ledger has committed: `ACSC` per settled transaction, `RJCT` with an ISO
/// reason (`AM04` insufficient funds, `AC01` unknown participant, `DUPL` a `TxId` reused for a
/// different payment, `NARR` with the ledger's code otherwise). A message that is not a valid
/// pacs.008 is refused whole (400 `fps.iso20022_invalid`, the element path in `detail`).
#[utoipa::path(post, path = "/api/v1/fps/iso20022/pacs.008", tag = TAG,
    request_body(content = String, content_type = "application/xml", description = "A pacs.008.001.08 document"),
    security(("fps_token" = [])),
    responses((status = 200, description = "A pacs.002.001.10 status report", body = String, content_type = "application/xml"),
        (status = 400, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 401, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 403, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 413, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 415, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 422, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json"),
        (status = 503, body = bauhinia_core::ProblemDocument, content_type = "application/problem+json")))]
async fn credit_transfer(
    State(state): State<FpsState>,
    FpsCaller(caller): FpsCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require_xml(&headers, "pacs.008")?;
    let message = iso20022::parse_credit_transfer(&body).map_err(|e| bad_xml(&e))?;
    let transactions = message.transactions.as_slice();
    let transfers = transactions
        .iter()
        .map(tx_to_transfer)
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes = state
        .switch
        .submit(transfers, caller)
        .await
        .map_err(|e| match e {
            SwitchError::Inadmissible(list) => iso_inadmissible(transactions, &list),
            other => other.into(),
        })?;
    Ok(xml_response(status_report(&message, &outcomes)))
}
