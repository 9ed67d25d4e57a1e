//! 轉數快 FPS through the whole application: the ISO 20022 participant interface. A participant
//! submits a pacs.008 and receives a pacs.002 — `ACSC` for a settled transaction, `RJCT AM04`
//! for one beyond its funds —; a resent message settles nothing twice; a malformed document is
//! a 400 problem naming the element; a participant cannot pay as another.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use bauhinia_fps::iso20022::{self, PaymentStatus};

use super::{app, send, TestApp};

const PACS_008: &str = include_str!("../../../fps/tests/iso20022/samples/pacs.008.xml");

/// The sample with a second transaction far beyond 004's funds, and fresh ids.
fn two_transactions(tag: &str) -> String {
    let start = PACS_008.find("<CdtTrfTxInf>").expect("a transaction");
    let end = PACS_008.find("</CdtTrfTxInf>").expect("its end") + "</CdtTrfTxInf>".len();
    let first = &PACS_008[start..end];
    let second = first
        .replace("FPS2026030100000001", &format!("{tag}-2"))
        .replace(">1234.50<", ">99999999999.00<");
    let first = first.replace("FPS2026030100000001", &format!("{tag}-1"));
    format!("{}{first}{second}{}", &PACS_008[..start], &PACS_008[end..])
        .replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")
}

pub(super) async fn token(app: &TestApp, code: &str) -> String {
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token");
    let answer = send(
        app,
        Request::post(format!("/api/v1/fps/participants/{code}/tokens"))
            .header(header::AUTHORIZATION, format!("Bearer {}", admin.trim()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"label":"iso gateway"}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    answer.json()["token"].as_str().expect("token").to_owned()
}

async fn submit(app: &TestApp, token: &str, xml: String) -> super::Answer {
    send(
        app,
        Request::post("/api/v1/fps/iso20022/pacs.008")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/xml")
            .body(Body::from(xml))
            .expect("request"),
    )
    .await
}

async fn balance(app: &TestApp, token: &str, code: &str) -> String {
    let answer = send(
        app,
        Request::get(format!("/api/v1/fps/participants/{code}/positions"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    answer.json()[0]["balance"]
        .as_str()
        .expect("balance")
        .to_owned()
}

fn statuses(xml: &[u8]) -> Vec<(String, String)> {
    let report = iso20022::parse_status_report(xml).expect("a valid pacs.002");
    assert_eq!(report.groups.len(), 1);
    assert_eq!(
        report.groups[0].status,
        Some(PaymentStatus::PartiallyAccepted)
    );
    super::fps_flows::lines(&report)
}

#[tokio::test]
async fn pacs_008_in_pacs_002_out_settled_once() {
    let app = app().await;
    let hsbc = token(&app, "004").await;
    let before = balance(&app, &hsbc, "004").await;
    let answer = submit(&app, &hsbc, two_transactions("ISO-A")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert!(answer.content_type().starts_with("application/xml"));
    let expected = vec![
        ("ACSC".to_owned(), String::new()),
        ("RJCT".to_owned(), "AM04".to_owned()),
    ];
    assert_eq!(statuses(&answer.body), expected);
    let after = balance(&app, &hsbc, "004").await;
    assert_ne!(before, after);
    // Resent: the same statuses, and nothing settles twice.
    let again = submit(&app, &hsbc, two_transactions("ISO-A")).await;
    assert_eq!(statuses(&again.body), expected);
    assert_eq!(balance(&app, &hsbc, "004").await, after);
}

#[tokio::test]
async fn bad_documents_and_other_debtors_are_refused() {
    let app = app().await;
    let hsbc = token(&app, "004").await;
    let broken = two_transactions("ISO-B").replace("<ChrgBr>SLEV</ChrgBr>", "");
    let answer = submit(&app, &hsbc, broken).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let problem = answer.json();
    assert_eq!(problem["code"], "fps.iso20022_invalid");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CdtTrfTxInf[1]")),
        "{problem}"
    );
    let bochk = token(&app, "012").await;
    let answer = submit(&app, &bochk, two_transactions("ISO-C")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    let wrong_type = send(
        &app,
        Request::post("/api/v1/fps/iso20022/pacs.008")
            .header(header::AUTHORIZATION, format!("Bearer {hsbc}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request"),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn end_of_day_statement_is_camt_053_that_adds_up() {
    let app = app().await;
    let hsbc = token(&app, "004").await;
    let answer = submit(&app, &hsbc, two_transactions("ISO-D")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("offset"))
        .date();
    let get = |uri: String, token: String| {
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request")
    };
    let answer = send(
        &app,
        get(
            format!("/api/v1/fps/participants/004/statements/{today}"),
            hsbc.clone(),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let statement = iso20022::parse_statement(&answer.body).expect("a valid camt.053");
    let stmt = &statement.statements.as_slice()[0];
    let balance = |kind: &str| {
        let b = stmt
            .balances
            .as_slice()
            .iter()
            .find(|b| b.kind.is_code(kind))
            .expect("balance");
        let sign = if b.credit_debit == iso20022::CreditDebit::Debit {
            -1
        } else {
            1
        };
        sign * b.amount.minor()
    };
    // The demo funding and the pacs.008 happened today: the day opens at zero.
    assert_eq!(balance("OPBD"), 0);
    let net: i64 = stmt
        .entries
        .iter()
        .map(|e| {
            if e.credit_debit == iso20022::CreditDebit::Credit {
                e.amount.minor()
            } else {
                -e.amount.minor()
            }
        })
        .sum();
    assert_eq!(balance("CLBD"), net);
    assert!(stmt
        .entries
        .iter()
        .any(|e| e.amount.minor() == 123_450 && e.credit_debit == iso20022::CreditDebit::Debit));
    // Another participant may not read it; a day not yet begun has no statement.
    let bochk = token(&app, "012").await;
    let refused = send(
        &app,
        get(
            format!("/api/v1/fps/participants/004/statements/{today}"),
            bochk,
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let tomorrow = today.next_day().expect("a next day");
    let future = send(
        &app,
        get(
            format!("/api/v1/fps/participants/004/statements/{tomorrow}"),
            hsbc,
        ),
    )
    .await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_suspended_participant_cannot_be_paid() {
    let app = app().await;
    let admin = std::fs::read_to_string(app.dir.join("admin.token")).expect("admin token");
    let registered = send(
        &app,
        Request::post("/api/v1/fps/participants")
            .header(header::AUTHORIZATION, format!("Bearer {}", admin.trim()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"code":"777","name_en":"Suspended Bank","name_zh_hant":"暫停銀行","name_zh_hans":"暂停银行","kind":"bank","active":false}"#,
            ))
            .expect("request"),
    )
    .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.text()
    );
    let hsbc = token(&app, "004").await;
    let answer = send(
        &app,
        Request::post("/api/v1/fps/transfers")
            .header(header::AUTHORIZATION, format!("Bearer {hsbc}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"id":"0190bbbb-0000-7000-8000-000000000001","debtor":"004","creditor":"777","currency":"HKD","amount":"1.00"}"#,
            ))
            .expect("request"),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text()
    );
    let problem = answer.json();
    assert_eq!(problem["code"], "fps.transfer_invalid");
    assert_eq!(problem["errors"][0]["pointer"], "/creditor");
    let iso = two_transactions("ISO-E").replace("<MmbId>012</MmbId>", "<MmbId>777</MmbId>");
    let answer = submit(&app, &hsbc, iso).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text()
    );
}
