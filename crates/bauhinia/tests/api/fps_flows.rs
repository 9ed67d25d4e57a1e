//! 轉數快 FPS payment flows through the whole application: requests to pay, eDDA mandates and
//! direct debits, returns and refunds — happy paths, every refusal (wrong caller, wrong status,
//! limits across two debits, over-returns, bad fields named by pointer), idempotent retries and
//! id conflicts, and the outbox events and audit rows each status change wrote.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};

use super::fps::token;
use super::{app, send, Answer, TestApp};

async fn post(app: &TestApp, token: &str, uri: &str, body: &Value) -> Answer {
    send(
        app,
        Request::post(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

async fn get(app: &TestApp, token: &str, uri: &str) -> Answer {
    send(
        app,
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

fn uuid() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// Checks a problem's status, code and (when given) the pointer of its first field error.
#[track_caller]
fn problem(answer: &Answer, status: StatusCode, code: &str, pointer: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["code"], code, "{body}");
    if let Some(pointer) = pointer {
        assert_eq!(body["errors"][0]["pointer"], pointer, "{body}");
    }
}

/// A problem's status and code.
type Expect = (StatusCode, &'static str);

const DEBIT_INVALID: Expect = (StatusCode::UNPROCESSABLE_ENTITY, "fps.debit_invalid");
const FORBIDDEN: Expect = (StatusCode::FORBIDDEN, "fps.flow_forbidden");
const ID_CONFLICT: Expect = (StatusCode::CONFLICT, "fps.request_conflict");
const MANDATE_INVALID: Expect = (StatusCode::UNPROCESSABLE_ENTITY, "fps.mandate_invalid");
const MANDATE_STATE: Expect = (StatusCode::CONFLICT, "fps.mandate_state");
const OVER_LIMIT: Expect = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "fps.mandate_limit_exceeded",
);
const OVER_ORIGINAL: Expect = (
    StatusCode::UNPROCESSABLE_ENTITY,
    "fps.return_exceeds_original",
);
const REQUEST_INVALID: Expect = (StatusCode::UNPROCESSABLE_ENTITY, "fps.request_invalid");
const REQUEST_STATE: Expect = (StatusCode::CONFLICT, "fps.request_state");
const RETURN_INVALID: Expect = (StatusCode::UNPROCESSABLE_ENTITY, "fps.return_invalid");
const TRANSFER_NOT_FOUND: Expect = (StatusCode::NOT_FOUND, "fps.transfer_not_found");

/// Posts `body` and checks the problem that answers it (see [`problem`]).
async fn refused(
    app: &TestApp,
    token: &str,
    uri: &str,
    body: &Value,
    (status, code): Expect,
    pointer: Option<&str>,
) -> Answer {
    let answer = post(app, token, uri, body).await;
    problem(&answer, status, code, pointer);
    answer
}

/// The outbox events about `subject`: (participant, type), in order.
async fn events(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    bauhinia_fps::events::read_after(&app.state.db, 0, 10_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.subject == subject)
        .map(|e| (e.participant, e.kind))
        .collect()
}

async fn audit(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    app.state
        .db
        .audit_for_subject(subject, 100)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.actor, e.action))
        .collect()
}

async fn balance(app: &TestApp, token: &str, code: &str) -> String {
    let answer = get(
        app,
        token,
        &format!("/api/v1/fps/participants/{code}/positions"),
    )
    .await;
    answer.json()[0]["balance"]
        .as_str()
        .expect("balance")
        .to_owned()
}

#[tokio::test]
async fn request_to_pay_from_creation_to_payment() {
    let app = app().await;
    let (payee, payer, other) = (
        token(&app, "012").await,
        token(&app, "004").await,
        token(&app, "024").await,
    );
    let id = uuid();
    let request = json!({
        "id": id, "payer": "004", "currency": "HKD", "amount": "88.00",
        "reference": "INV-2026-001", "payee_name": "Chan Tai Man",
    });
    let made = post(&app, &payee, "/api/v1/fps/requests", &request).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let view = made.json();
    assert_eq!(view["status"], "pending");
    assert_eq!(view["payee_masked_name"], "CHAN T** M**");
    // The same id and body: the same answer; another body under the id: a conflict.
    let again = post(&app, &payee, "/api/v1/fps/requests", &request).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), view);
    let mut changed = request.clone();
    changed["amount"] = json!("88.01");
    refused(
        &app,
        &payee,
        "/api/v1/fps/requests",
        &changed,
        ID_CONFLICT,
        None,
    )
    .await;
    // Bad fields are named; the operator and strangers are refused.
    let bad = json!({ "id": "x", "payer": "004", "currency": "HKD", "amount": "1.001", "payee_name": "A" });
    let answer = refused(
        &app,
        &payee,
        "/api/v1/fps/requests",
        &bad,
        REQUEST_INVALID,
        Some("/id"),
    )
    .await;
    assert_eq!(answer.json()["errors"][1]["pointer"], "/amount");
    let mut to_self = request.clone();
    to_self["id"] = json!(uuid());
    to_self["payer"] = json!("012");
    refused(
        &app,
        &payee,
        "/api/v1/fps/requests",
        &to_self,
        REQUEST_INVALID,
        Some("/payer"),
    )
    .await;
    let mut too_late = request.clone();
    too_late["id"] = json!(uuid());
    too_late["expires_at"] = json!("2099-01-01T00:00:00Z");
    refused(
        &app,
        &payee,
        "/api/v1/fps/requests",
        &too_late,
        REQUEST_INVALID,
        Some("/expires_at"),
    )
    .await;
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token");
    refused(
        &app,
        admin.trim(),
        "/api/v1/fps/requests",
        &request,
        FORBIDDEN,
        None,
    )
    .await;
    let answer = get(&app, &other, &format!("/api/v1/fps/requests/{id}")).await;
    problem(
        &answer,
        StatusCode::NOT_FOUND,
        "fps.request_not_found",
        None,
    );

    // The payee cannot pay it; the payer pays it once; a retry is the same payment.
    let pay_uri = format!("/api/v1/fps/requests/{id}/pay");
    let transfer = uuid();
    refused(
        &app,
        &payee,
        &pay_uri,
        &json!({ "transfer_id": transfer }),
        FORBIDDEN,
        None,
    )
    .await;
    refused(
        &app,
        &payer,
        &pay_uri,
        &json!({ "transfer_id": "nope" }),
        REQUEST_INVALID,
        Some("/transfer_id"),
    )
    .await;
    let before = balance(&app, &payer, "004").await;
    let paid = post(&app, &payer, &pay_uri, &json!({ "transfer_id": transfer })).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text());
    assert_eq!(paid.json()["status"], "paid");
    let after = balance(&app, &payer, "004").await;
    assert_ne!(before, after);
    let retry = post(&app, &payer, &pay_uri, &json!({ "transfer_id": transfer })).await;
    assert_eq!(retry.json()["status"], "paid");
    assert_eq!(balance(&app, &payer, "004").await, after);
    refused(
        &app,
        &payer,
        &pay_uri,
        &json!({ "transfer_id": uuid() }),
        REQUEST_STATE,
        None,
    )
    .await;
    refused(
        &app,
        &payee,
        &format!("/api/v1/fps/requests/{id}/cancel"),
        &json!({}),
        REQUEST_STATE,
        None,
    )
    .await;
    // The paying transfer names the request.
    let t = get(&app, &payer, &format!("/api/v1/fps/transfers/{transfer}"))
        .await
        .json();
    assert_eq!(
        (t["purpose"].as_str(), t["related_id"].as_str()),
        (Some("request_to_pay"), Some(id.as_str()))
    );

    // Lists by role and status.
    let list = get(&app, &payer, "/api/v1/fps/requests?role=payer&status=paid").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert!(list.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|r| r["id"] == id.as_str()));
    let none = get(&app, &payer, "/api/v1/fps/requests?role=payee")
        .await
        .json();
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
    let bad = get(&app, &payer, "/api/v1/fps/requests?status=lost").await;
    problem(&bad, StatusCode::BAD_REQUEST, "request.invalid_query", None);

    // Events, one per participant, and audit rows, in the transaction of each change.
    let subject = format!("request:{id}");
    let seen = events(&app, &subject).await;
    for kind in ["request.created", "request.paid"] {
        for code in ["004", "012"] {
            assert!(
                seen.contains(&(code.into(), kind.into())),
                "{kind} for {code}: {seen:?}"
            );
        }
    }
    let audited = audit(&app, &subject).await;
    assert!(
        audited.contains(&("participant:012".into(), "fps.request.create".into())),
        "{audited:?}"
    );
    assert!(
        audited.contains(&("participant:004".into(), "fps.request.paid".into())),
        "{audited:?}"
    );
}

#[tokio::test]
async fn requests_are_declined_and_cancelled_once() {
    let app = app().await;
    let (payee, payer) = (token(&app, "012").await, token(&app, "004").await);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = uuid();
        let body = json!({ "id": id, "payer": "004", "currency": "CNY", "amount": "10", "payee_name": "陳大文" });
        let made = post(&app, &payee, "/api/v1/fps/requests", &body).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
        assert_eq!(made.json()["payee_masked_name"], "陳*文");
        ids.push(id);
    }
    let decline = |id: &str| format!("/api/v1/fps/requests/{id}/decline");
    let cancel = |id: &str| format!("/api/v1/fps/requests/{id}/cancel");
    refused(&app, &payee, &decline(&ids[0]), &json!({}), FORBIDDEN, None).await;
    let answer = post(&app, &payer, &decline(&ids[0]), &json!({})).await;
    assert_eq!(answer.json()["status"], "declined", "{}", answer.text());
    refused(
        &app,
        &payer,
        &decline(&ids[0]),
        &json!({}),
        REQUEST_STATE,
        None,
    )
    .await;
    refused(&app, &payer, &cancel(&ids[1]), &json!({}), FORBIDDEN, None).await;
    let answer = post(&app, &payee, &cancel(&ids[1]), &json!({})).await;
    assert_eq!(answer.json()["status"], "cancelled");
    let pay = post(
        &app,
        &payer,
        &format!("/api/v1/fps/requests/{}/pay", ids[1]),
        &json!({ "transfer_id": uuid() }),
    )
    .await;
    problem(&pay, StatusCode::CONFLICT, "fps.request_state", None);
    assert_eq!(
        events(&app, &format!("request:{}", ids[0]))
            .await
            .iter()
            .filter(|e| e.1 == "request.declined")
            .count(),
        2
    );
    assert_eq!(
        events(&app, &format!("request:{}", ids[1]))
            .await
            .iter()
            .filter(|e| e.1 == "request.cancelled")
            .count(),
        2
    );
}

fn mandate(id: &str, kind: &str) -> Value {
    json!({
        "id": id, "kind": kind, "creditor": "012", "creditor_reference": "MERCHANT-ACC-42",
        "debtor": "004", "debtor_reference": "004-123-456789-001", "debtor_name": "Wong Siu Ming",
        "currency": "HKD", "per_debit_limit": "100.00", "period_limit": "150.00",
        "period": "month", "valid_from": "2020-01-01",
    })
}

#[tokio::test]
async fn mandates_and_direct_debits_within_their_limits() {
    let app = app().await;
    let (creditor, debtor) = (token(&app, "012").await, token(&app, "004").await);
    let id = uuid();
    // Simplified: set up by the creditor's participant, not the debtor's.
    refused(
        &app,
        &debtor,
        "/api/v1/fps/mandates",
        &mandate(&id, "simplified"),
        FORBIDDEN,
        None,
    )
    .await;
    let mut bad = mandate(&uuid(), "simplified");
    bad["period_limit"] = json!("99.99");
    refused(
        &app,
        &creditor,
        "/api/v1/fps/mandates",
        &bad,
        MANDATE_INVALID,
        Some("/period_limit"),
    )
    .await;
    bad["debtor_reference"] = json!("");
    refused(
        &app,
        &creditor,
        "/api/v1/fps/mandates",
        &bad,
        MANDATE_INVALID,
        Some("/debtor_reference"),
    )
    .await;
    let made = post(
        &app,
        &creditor,
        "/api/v1/fps/mandates",
        &mandate(&id, "simplified"),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let view = made.json();
    assert_eq!(view["status"], "pending");
    assert_eq!(view["creditor_reference"], "MERCHANT-ACC-42");
    assert!(view.get("debtor_reference").is_none(), "{view}");
    let again = post(
        &app,
        &creditor,
        "/api/v1/fps/mandates",
        &mandate(&id, "simplified"),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    let seen = get(&app, &debtor, &format!("/api/v1/fps/mandates/{id}"))
        .await
        .json();
    assert_eq!(seen["debtor_reference"], "004-123-456789-001");
    assert!(seen.get("creditor_reference").is_none(), "{seen}");

    let debits = format!("/api/v1/fps/mandates/{id}/debits");
    let debit = |amount: &str| json!({ "id": uuid(), "currency": "HKD", "amount": amount, "reference": "Mar bill" });
    refused(
        &app,
        &creditor,
        &debits,
        &debit("10.00"),
        MANDATE_STATE,
        None,
    )
    .await;
    let confirm = format!("/api/v1/fps/mandates/{id}/confirm");
    refused(&app, &creditor, &confirm, &json!({}), FORBIDDEN, None).await;
    let answer = post(&app, &debtor, &confirm, &json!({})).await;
    assert_eq!(answer.json()["status"], "active", "{}", answer.text());
    refused(&app, &debtor, &confirm, &json!({}), MANDATE_STATE, None).await;

    // Debits: by the creditor only; per-debit 100.00; per month 150.00 across debits.
    refused(&app, &debtor, &debits, &debit("10.00"), FORBIDDEN, None).await;
    refused(&app, &creditor, &debits, &debit("100.01"), OVER_LIMIT, None).await;
    let mut cny = debit("1.00");
    cny["currency"] = json!("CNY");
    refused(
        &app,
        &creditor,
        &debits,
        &cny,
        DEBIT_INVALID,
        Some("/currency"),
    )
    .await;
    let mut future = debit("1.00");
    future["collection_date"] = json!("2099-01-01");
    refused(
        &app,
        &creditor,
        &debits,
        &future,
        DEBIT_INVALID,
        Some("/collection_date"),
    )
    .await;
    let first = debit("100.00");
    let before = balance(&app, &debtor, "004").await;
    let settled = post(&app, &creditor, &debits, &first).await;
    assert_eq!(settled.status, StatusCode::CREATED, "{}", settled.text());
    let settled = settled.json();
    assert_eq!(settled["status"], "settled");
    assert_ne!(balance(&app, &debtor, "004").await, before);
    let retry = post(&app, &creditor, &debits, &first).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json()["status"], "settled");
    let mut changed = first.clone();
    changed["amount"] = json!("99.00");
    refused(&app, &creditor, &debits, &changed, ID_CONFLICT, None).await;
    refused(&app, &creditor, &debits, &debit("50.01"), OVER_LIMIT, None).await;
    let answer = post(&app, &creditor, &debits, &debit("50.00")).await;
    assert_eq!(answer.json()["status"], "settled");
    // The debit's transfer: purpose direct_debit, related to the mandate, submitted honestly.
    let t = get(
        &app,
        &debtor,
        &format!(
            "/api/v1/fps/transfers/{}",
            settled["id"].as_str().expect("id")
        ),
    )
    .await
    .json();
    assert_eq!(t["purpose"], "direct_debit");
    assert_eq!(t["related_id"], id.as_str());
    assert_eq!(
        t["submitted_by"],
        format!("participant:012 under mandate:{id}")
    );
    let listed = get(&app, &debtor, &debits).await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));

    // Suspended by the debtor's participant: no debits until resumed; cancelled for good.
    let act = |action: &str| format!("/api/v1/fps/mandates/{id}/{action}");
    refused(
        &app,
        &creditor,
        &act("suspend"),
        &json!({}),
        FORBIDDEN,
        None,
    )
    .await;
    assert_eq!(
        post(&app, &debtor, &act("suspend"), &json!({}))
            .await
            .json()["status"],
        "suspended"
    );
    refused(
        &app,
        &creditor,
        &debits,
        &debit("1.00"),
        MANDATE_STATE,
        None,
    )
    .await;
    assert_eq!(
        post(&app, &debtor, &act("resume"), &json!({})).await.json()["status"],
        "active"
    );
    assert_eq!(
        post(&app, &creditor, &act("cancel"), &json!({}))
            .await
            .json()["status"],
        "cancelled"
    );
    refused(
        &app,
        &debtor,
        &act("resume"),
        &json!({}),
        MANDATE_STATE,
        None,
    )
    .await;
    let list = get(
        &app,
        &creditor,
        "/api/v1/fps/mandates?role=creditor&status=cancelled",
    )
    .await
    .json();
    assert!(list["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|m| m["id"] == id.as_str()));

    let kinds: Vec<String> = events(&app, &format!("mandate:{id}"))
        .await
        .into_iter()
        .map(|e| e.1)
        .collect();
    for kind in [
        "mandate.created",
        "mandate.activated",
        "mandate.suspended",
        "mandate.resumed",
        "mandate.cancelled",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            2,
            "{kind}: {kinds:?}"
        );
    }
    let debit_events = events(
        &app,
        &format!("debit:{}", settled["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(debit_events.len(), 2, "{debit_events:?}");
    assert!(debit_events.iter().all(|e| e.1 == "debit.settled"));
    let debit_audit = audit(
        &app,
        &format!("debit:{}", settled["id"].as_str().expect("id")),
    )
    .await;
    for action in ["fps.debit.create", "fps.debit.settled"] {
        assert!(
            debit_audit.contains(&("participant:012".into(), action.into())),
            "{action}: {debit_audit:?}"
        );
    }
    let audited = audit(&app, &format!("mandate:{id}")).await;
    assert!(
        audited.contains(&("participant:004".into(), "fps.mandate.confirm".into())),
        "{audited:?}"
    );
    // No account reference in any event payload.
    for e in bauhinia_fps::events::read_after(&app.state.db, 0, 10_000)
        .await
        .expect("events")
    {
        assert!(
            !e.payload.contains("MERCHANT-ACC-42") && !e.payload.contains("004-123-456789-001")
        );
    }

    // A standard mandate is set up by the debtor's participant and is active at once; a
    // simplified one can be rejected.
    let standard = post(
        &app,
        &debtor,
        "/api/v1/fps/mandates",
        &mandate(&uuid(), "standard"),
    )
    .await;
    assert_eq!(standard.json()["status"], "active", "{}", standard.text());
    let rejected = uuid();
    post(
        &app,
        &creditor,
        "/api/v1/fps/mandates",
        &mandate(&rejected, "simplified"),
    )
    .await;
    let answer = post(
        &app,
        &debtor,
        &format!("/api/v1/fps/mandates/{rejected}/reject"),
        &json!({}),
    )
    .await;
    assert_eq!(answer.json()["status"], "rejected");
}

#[tokio::test]
async fn returns_and_refunds_never_exceed_the_original() {
    let app = app().await;
    let (merchant, customer) = (token(&app, "012").await, token(&app, "004").await);
    let original = uuid();
    let paid = post(
        &app,
        &customer,
        "/api/v1/fps/transfers",
        &json!({
            "id": original, "debtor": "004", "creditor": "012", "currency": "HKD",
            "amount": "200.00", "purpose": "p2m",
        }),
    )
    .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text());
    let return_uri = format!("/api/v1/fps/transfers/{original}/return");
    let refund_uri = format!("/api/v1/fps/transfers/{original}/refund");
    // Only the original's creditor; a return needs an ISO reason.
    let first = json!({ "id": uuid(), "amount": "120.00", "reason": "AC04" });
    refused(&app, &customer, &return_uri, &first, FORBIDDEN, None).await;
    refused(
        &app,
        &merchant,
        &return_uri,
        &json!({ "id": uuid(), "amount": "1.00" }),
        RETURN_INVALID,
        Some("/reason"),
    )
    .await;
    refused(
        &app,
        &merchant,
        &return_uri,
        &json!({ "id": uuid(), "amount": "1.00", "reason": "ZZZZ" }),
        RETURN_INVALID,
        Some("/reason"),
    )
    .await;
    refused(
        &app,
        &merchant,
        &format!("/api/v1/fps/transfers/{}/return", uuid()),
        &first,
        TRANSFER_NOT_FOUND,
        None,
    )
    .await;

    let returned = post(&app, &merchant, &return_uri, &first).await;
    assert_eq!(returned.status, StatusCode::CREATED, "{}", returned.text());
    assert_eq!(returned.json()["status"], "settled");
    let retry = post(&app, &merchant, &return_uri, &first).await;
    assert_eq!(retry.status, StatusCode::OK);
    let mut changed = first.clone();
    changed["amount"] = json!("1.00");
    refused(&app, &merchant, &return_uri, &changed, ID_CONFLICT, None).await;
    let over = refused(
        &app,
        &merchant,
        &refund_uri,
        &json!({ "id": uuid(), "amount": "80.01" }),
        OVER_ORIGINAL,
        None,
    )
    .await;
    assert!(
        over.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("80.00")),
        "{}",
        over.text()
    );
    let refund_id = uuid();
    let refund = post(
        &app,
        &merchant,
        &refund_uri,
        &json!({ "id": refund_id, "amount": "80.00", "reference": "sorry" }),
    )
    .await;
    assert_eq!(refund.json()["status"], "settled", "{}", refund.text());
    let page = get(
        &app,
        &customer,
        &format!("/api/v1/fps/transfers/{original}/returns"),
    )
    .await
    .json();
    assert_eq!(page["remaining"], "0.00");
    assert_eq!(page["returns"].as_array().map(Vec::len), Some(2));
    let t = get(
        &app,
        &customer,
        &format!("/api/v1/fps/transfers/{refund_id}"),
    )
    .await
    .json();
    assert_eq!(
        (t["purpose"].as_str(), t["related_id"].as_str()),
        (Some("refund"), Some(original.as_str()))
    );
    // A refund is not refunded again.
    refused(
        &app,
        &customer,
        &format!("/api/v1/fps/transfers/{refund_id}/refund"),
        &json!({ "id": uuid(), "amount": "1.00" }),
        RETURN_INVALID,
        None,
    )
    .await;
    let kinds = events(&app, &format!("refund:{refund_id}")).await;
    assert_eq!(
        kinds,
        [
            ("012".into(), "refund.settled".into()),
            ("004".into(), "refund.settled".into())
        ]
    );
    let audited = audit(&app, &format!("refund:{refund_id}")).await;
    assert!(
        audited.contains(&("participant:012".into(), "fps.return.create".into())),
        "{audited:?}"
    );
    assert!(
        audited.contains(&("participant:012".into(), "fps.return.settled".into())),
        "{audited:?}"
    );
}

const PACS_008: &str = include_str!("../../../fps/tests/iso20022/samples/pacs.008.xml");
const PACS_004: &str = include_str!("../../../fps/tests/iso20022/samples/pacs.004.xml");
const PACS_003: &str = include_str!("../../../fps/tests/iso20022/samples/pacs.003.xml");

async fn send_xml(app: &TestApp, token: &str, message: &str, xml: String) -> Answer {
    send(
        app,
        Request::post(format!("/api/v1/fps/iso20022/{message}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/xml")
            .body(Body::from(xml))
            .expect("request"),
    )
    .await
}

/// Each transaction's (status, reason) in a pacs.002 answer.
fn statuses(answer: &Answer) -> Vec<(String, String)> {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = bauhinia_fps::iso20022::parse_status_report(&answer.body).expect("a pacs.002");
    lines(&report)
}

/// Each transaction's (status, reason) in a pacs.002.
pub(super) fn lines(report: &bauhinia_fps::iso20022::StatusReport) -> Vec<(String, String)> {
    report
        .transactions
        .iter()
        .map(|t| {
            let status = t.status.map(|s| s.code()).unwrap_or_default().to_owned();
            let reason = t
                .reasons
                .first()
                .and_then(|r| r.reason.as_ref())
                .map(|r| r.value().to_owned())
                .unwrap_or_default();
            (status, reason)
        })
        .collect()
}

fn accepted() -> Vec<(String, String)> {
    vec![("ACSC".to_owned(), String::new())]
}

fn rejected(reason: &str) -> Vec<(String, String)> {
    vec![("RJCT".to_owned(), reason.to_owned())]
}

#[tokio::test]
async fn pacs_004_returns_and_pacs_003_debits_answered_by_pacs_002() {
    let app = app().await;
    let (hsbc, bochk, hang_seng) = (
        token(&app, "004").await,
        token(&app, "012").await,
        token(&app, "024").await,
    );
    // 004 pays 012 HK$1,234.50 by pacs.008; 012 returns it by pacs.004 (InstdAgt: 004).
    let paid = send_xml(&app, &hsbc, "pacs.008", PACS_008.to_owned()).await;
    assert_eq!(statuses(&paid), accepted());
    let agent = "<InstdAgt><FinInstnId><ClrSysMmbId><MmbId>004</MmbId></ClrSysMmbId></FinInstnId></InstdAgt>";
    let pacs_004 = PACS_004.replace(
        "<ChrgBr>SLEV</ChrgBr>",
        &format!("<ChrgBr>SLEV</ChrgBr>{agent}"),
    );
    let before = balance(&app, &hsbc, "004").await;
    assert_eq!(
        statuses(&send_xml(&app, &bochk, "pacs.004", pacs_004.clone()).await),
        accepted()
    );
    let after = balance(&app, &hsbc, "004").await;
    assert_ne!(before, after);
    // Resent: the same answer, nothing settles twice; more than remains: AM02.
    assert_eq!(
        statuses(&send_xml(&app, &bochk, "pacs.004", pacs_004.clone()).await),
        accepted()
    );
    assert_eq!(balance(&app, &hsbc, "004").await, after);
    let again = pacs_004
        .replace("RTR-0001", "RTR-0002")
        .replace(">1234.5<", ">1.00<");
    assert_eq!(
        statuses(&send_xml(&app, &bochk, "pacs.004", again).await),
        rejected("AM02")
    );
    // Without InstdAgt the pacs.008 original cannot be found; 004 cannot return what it paid.
    let orphan = PACS_004.replace("RTR-0001", "RTR-0003");
    assert_eq!(
        statuses(&send_xml(&app, &bochk, "pacs.004", orphan).await),
        rejected("NARR")
    );
    let wrong_side = pacs_004.replace("RTR-0001", "RTR-0004");
    assert_eq!(
        statuses(&send_xml(&app, &hsbc, "pacs.004", wrong_side).await),
        rejected("NARR")
    );

    // A standard mandate 004 → 024 (HK$500 a debit, HK$1,000 a month); 024 collects by pacs.003.
    let mandate_id = uuid();
    let mut body = mandate(&mandate_id, "standard");
    body["creditor"] = json!("024");
    body["per_debit_limit"] = json!("500.00");
    body["period_limit"] = json!("1000.00");
    let made = post(&app, &hsbc, "/api/v1/fps/mandates", &body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("offset"))
        .date()
        .to_string();
    let debit = |tx: &str, amount: &str| {
        PACS_003
            // Max35Text: the UUID's 32 hex digits, without hyphens.
            .replace("EDDA-024-000123", &mandate_id.replace('-', ""))
            .replace(
                "2026-03-05</IntrBkSttlmDt>",
                &format!("{today}</IntrBkSttlmDt>"),
            )
            .replace("FPS2026030500000042", tx)
            .replace(">456.70<", &format!(">{amount}<"))
    };
    let before = balance(&app, &hsbc, "004").await;
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-1", "456.70")).await),
        accepted()
    );
    let after = balance(&app, &hsbc, "004").await;
    assert_ne!(before, after);
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-1", "456.70")).await),
        accepted()
    );
    assert_eq!(balance(&app, &hsbc, "004").await, after);
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-1", "1.00")).await),
        rejected("DUPL")
    );
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-2", "500.01")).await),
        rejected("AM02")
    );
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-3", "500.00")).await),
        accepted()
    );
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", debit("DD-4", "43.31")).await),
        rejected("AM02")
    );
    let unknown =
        debit("DD-5", "1.00").replace(&mandate_id.replace('-', ""), &uuid().replace('-', ""));
    assert_eq!(
        statuses(&send_xml(&app, &hang_seng, "pacs.003", unknown).await),
        rejected("MD01")
    );
    // Only the creditor agent collects.
    let answer = send_xml(&app, &bochk, "pacs.003", debit("DD-6", "1.00")).await;
    problem(&answer, StatusCode::FORBIDDEN, "fps.forbidden", None);
    let listed = get(
        &app,
        &hsbc,
        &format!("/api/v1/fps/mandates/{mandate_id}/debits"),
    )
    .await
    .json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
}

#[tokio::test]
async fn a_request_lapses_at_its_expiry() {
    let app = app().await;
    let (payee, payer) = (token(&app, "012").await, token(&app, "004").await);
    let id = uuid();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    let expires_at = soon
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let body = json!({
        "id": id, "payer": "004", "currency": "HKD", "amount": "5.00",
        "payee_name": "Chan Tai Man", "expires_at": expires_at,
    });
    let made = post(&app, &payee, "/api/v1/fps/requests", &body).await;
    assert_eq!(made.json()["status"], "pending", "{}", made.text());
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let read = get(&app, &payer, &format!("/api/v1/fps/requests/{id}")).await;
    assert_eq!(read.json()["status"], "expired");
    let listed = get(
        &app,
        &payee,
        "/api/v1/fps/requests?role=payee&status=expired",
    )
    .await;
    assert!(listed.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|r| r["id"] == id.as_str()));
    let pay = json!({ "transfer_id": uuid() });
    let uri = format!("/api/v1/fps/requests/{id}/pay");
    refused(&app, &payer, &uri, &pay, REQUEST_STATE, None).await;
    // Touching it wrote the expiry, with an event for each participant.
    let kinds = events(&app, &format!("request:{id}")).await;
    assert_eq!(
        kinds.iter().filter(|(_, k)| k == "request.expired").count(),
        2,
        "{kinds:?}"
    );
}
